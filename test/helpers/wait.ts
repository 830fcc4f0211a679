/**
 * The suite's one polling helper. waitFor(check) calls `check` (sync or async) every `intervalMs`
 * until it returns something other than undefined or false, and resolves with that value; once
 * `timeoutMs` has passed it rejects naming `what`. A check may throw to give up early (a child
 * process that exited, say). The timeout is a ceiling for a busy machine, never a measurement:
 * nothing asserts how quickly the condition came true.
 */
export async function waitFor<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 5_000,
  what: string | (() => string) = 'condition',
  intervalMs = 20,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'function' ? what() : what}`);
    await sleep(intervalMs);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
