// @ts-check
/** The viewer's only network access: GET this listener's own /api (the CSP allows nothing else). */

/** An /api answer other than 200, with its status (404: trace not stored; 400: bad id or filter). */
export class ApiError extends Error {
  /**
   * @param {string} message
   * @param {number} status
   */
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

/**
 * @template T
 * @param {string} path relative to the page, e.g. "api/traces?limit=200"
 * @returns {Promise<T>}
 */
export async function getJson(path) {
  const res = await fetch(path, { headers: { accept: 'application/json' }, cache: 'no-store' });
  /** @type {unknown} */
  const body = await res.json().catch(() => ({}));
  if (!res.ok) {
    const message = body && typeof body === 'object' && 'error' in body && typeof body.error === 'string' ? body.error : `HTTP ${res.status}`;
    throw new ApiError(message, res.status);
  }
  return /** @type {T} */ (body);
}
