// Key paths as messages print them, and which keys differ between two configs (what
// `config check` summarises and what a reload changed). No dependencies: the sensor uses it.

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** "rules.doh.enabled", "assets.esxiManagement[0].profile". */
export function keyPath(path: readonly (string | number)[]): string {
  if (path.length === 0) return '(top level)';
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`))
    .join('');
}

/** Dotted paths of the leaves (lists count as leaves) where one config differs from another. */
export function changedKeys(a: unknown, b: unknown, path: string[] = []): string[] {
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].flatMap((k) => changedKeys(a[k], b[k], [...path, k]));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [keyPath(path)];
}
