// @ts-check
/**
 * Building DOM nodes for the viewer. Span data is untrusted: every value reaches the page as a text
 * node or through setAttribute, never through innerHTML.
 */

const SVG_NS = 'http://www.w3.org/2000/svg';

/** @typedef {Node | string | number | null | undefined | false} Leaf */
/** Children: nodes or text, in arrays nested up to two deep (map() inside a list). false/null/undefined are skipped. */
/** @typedef {Leaf | ReadonlyArray<Leaf | ReadonlyArray<Leaf | ReadonlyArray<Leaf>>>} Child */
/** Attribute values; `style` takes an object of CSS properties. false/null/undefined leave it out. */
/** @typedef {string | number | boolean | null | undefined | Record<string, string>} AttrValue */
/** @typedef {Record<string, AttrValue> | null} Attrs */

/**
 * The element with this id: the page's fixed skeleton (index.html), so a missing one is a bug.
 * @param {string} id
 * @returns {HTMLElement}
 */
export function byId(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`viewer: #${id} is missing from index.html`);
  return node;
}

/**
 * el('div', { class: 'x', title: 'y' }, child, 'text', [more, children])
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Attrs} [attrs]
 * @param {...Child} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  setAttrs(node, attrs);
  append(node, children);
  return node;
}

/**
 * @param {string} tag
 * @param {Attrs} [attrs]
 * @param {...Child} children
 * @returns {SVGElement}
 */
export function svg(tag, attrs, ...children) {
  const node = /** @type {SVGElement} */ (document.createElementNS(SVG_NS, tag));
  setAttrs(node, attrs);
  append(node, children);
  return node;
}

/**
 * @param {HTMLElement | SVGElement} node
 * @param {Attrs | undefined} attrs
 */
function setAttrs(node, attrs) {
  if (!attrs) return;
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'style' && typeof v === 'object') Object.assign(node.style, v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
}

/**
 * @param {Node} node
 * @param {ReadonlyArray<Child>} children
 */
export function append(node, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (typeof c === 'object' && !(c instanceof Node)) append(node, c);
    else node.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/**
 * Replace a node's children.
 * @param {Node} node
 * @param {...Child} children
 */
export function fill(node, ...children) {
  while (node.firstChild) node.removeChild(node.firstChild);
  append(node, children);
}

/**
 * Set text only when it differs, so an unchanged node (and a selection in it) is left alone.
 * @param {Node} node
 * @param {string} text
 */
export function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

/**
 * Attach listeners with their event types checked.
 * @template {HTMLElement} E
 * @param {E} node
 * @param {{ [K in keyof HTMLElementEventMap]?: (ev: HTMLElementEventMap[K]) => void }} handlers
 * @returns {E}
 */
export function on(node, handlers) {
  for (const [type, fn] of Object.entries(handlers)) node.addEventListener(type, /** @type {EventListener} */ (fn));
  return node;
}
