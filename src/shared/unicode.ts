// String.prototype.isWellFormed is in every supported Node (≥ 20) but not in the ES2022 typings.
export function isWellFormed(value: string): boolean {
  return (value as unknown as { isWellFormed(): boolean }).isWellFormed();
}

/**
 * JSON Pointer paths of the strings (values or keys) in `value` that hold a lone surrogate. JSON text can
 * carry one as an escape ("\ud800"); such a string is not Unicode, has no UTF-8 form and no RFC 8785
 * canonical form, so an event holding one cannot be hashed into the chain.
 */
export function lonelySurrogatePaths(value: unknown, path = ''): string[] {
  if (typeof value === 'string') return isWellFormed(value) ? [] : [path];
  if (Array.isArray(value)) return value.flatMap((item, index) => lonelySurrogatePaths(item, `${path}/${index}`));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, item]) => {
    const at = `${path}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`;
    return [...(isWellFormed(key) ? [] : [at]), ...lonelySurrogatePaths(item, at)];
  });
}
