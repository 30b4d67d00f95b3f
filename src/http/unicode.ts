/**
 * Where the first text that is not well-formed UTF-16 lies in a parsed request part (a JSON body,
 * a form, a query): `body.click`, `body.items[2].name`, `query.status`; null when every string and
 * every object key is well-formed. JSON can carry a lone surrogate (`"\ud800"`), which no UTF-8
 * consumer can represent: encodeURIComponent throws on it and SQLite would store U+FFFD instead.
 * Walks iteratively (a deeply nested body cannot overflow the stack) and spells a path only for
 * the field it reports.
 */
export function illFormedField(value: unknown, root: string): string | null {
  // Each visited container's parent and key, so a path is built only on a finding.
  const parents: { parent: number; key: string | number }[] = [];
  const stack: [unknown, number][] = [[value, -1]];
  const pathOf = (node: number, key?: string | number) => {
    const keys: (string | number)[] = key === undefined ? [] : [key];
    for (let n = node; n !== -1; n = parents[n]!.parent) keys.push(parents[n]!.key);
    return keys.reverse().reduce<string>((path, k) => fieldPath(path, k), root);
  };
  while (stack.length) {
    const [v, node] = stack.pop()!;
    if (typeof v === "string") {
      if (!v.isWellFormed()) return pathOf(node);
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) {
        const item: unknown = v[i];
        if (typeof item === "string") {
          if (!item.isWellFormed()) return pathOf(node, i);
        } else if (item !== null && typeof item === "object") stack.push([item, parents.push({ parent: node, key: i }) - 1]);
      }
    } else if (isPlainObject(v)) {
      for (const key in v) {
        if (!key.isWellFormed()) return pathOf(node, key);
        const item = v[key];
        if (typeof item === "string") {
          if (!item.isWellFormed()) return pathOf(node, key);
        } else if (item !== null && typeof item === "object") stack.push([item, parents.push({ parent: node, key }) - 1]);
      }
    }
  }
  return null;
}

export const ILL_FORMED = "must be well-formed Unicode (it contains a lone UTF-16 surrogate)";

/** JSON objects, forms and queries; not Files, Blobs or other class instances. */
function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== "object") return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

const fieldPath = (parent: string, key: string | number) =>
  typeof key === "number" ? `${parent}[${key}]`
    : /^[A-Za-z_$][\w$]*$/.test(key) ? `${parent}.${key}` : `${parent}[${JSON.stringify(key.toWellFormed())}]`;
