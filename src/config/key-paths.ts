/**
 * Every key path the YAML schema accepts, found by walking the zod schema itself (objects,
 * records, arrays, unions, optional/default wrappers), so a key added to raw-schema*.ts shows up
 * here without anyone listing it. Paths read `virtual_servers[].real_servers[].tcp_check.retry`;
 * a record's free key is `*` (`vrrp_scripts.*.script`).
 */
import type { z } from 'zod';
import { rawConfigSchema } from './raw-schema.js';

interface ZodDef {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  element?: z.ZodType;
  valueType?: z.ZodType;
  options?: z.ZodType[];
  in?: z.ZodType;
  out?: z.ZodType;
  left?: z.ZodType;
  right?: z.ZodType;
}

function defOf(schema: z.ZodType): ZodDef {
  return (schema as unknown as { _zod: { def: ZodDef } })._zod.def;
}

/** The paths under `schema`, prefixed with `prefix`; objects contribute their keys. */
function walk(schema: z.ZodType, prefix: string, out: Set<string>, seen: Set<z.ZodType>): void {
  if (seen.has(schema)) return;
  seen.add(schema);
  const def = defOf(schema);
  switch (def.type) {
    case 'object':
      for (const [key, child] of Object.entries(def.shape ?? {})) {
        const path = prefix ? `${prefix}.${key}` : key;
        out.add(path);
        walk(child, path, out, new Set(seen));
      }
      return;
    case 'array':
      if (def.element) walk(def.element, `${prefix}[]`, out, seen);
      return;
    case 'record':
      if (def.valueType) walk(def.valueType, `${prefix}.*`, out, seen);
      return;
    case 'union':
      for (const option of def.options ?? []) walk(option, prefix, out, new Set(seen));
      return;
    case 'intersection':
      for (const side of [def.left, def.right]) if (side) walk(side, prefix, out, new Set(seen));
      return;
    case 'pipe':
      for (const side of [def.in, def.out]) if (side) walk(side, prefix, out, new Set(seen));
      return;
    default:
      // optional, nullable, default, prefault, readonly, catch...: one inner schema
      if (def.innerType) walk(def.innerType, prefix, out, seen);
  }
}

/** Every key path of `schema` (default: the whole ulvs.yaml), sorted. */
export function schemaKeyPaths(schema: z.ZodType = rawConfigSchema): string[] {
  const out = new Set<string>();
  walk(schema, '', out, new Set());
  return [...out].sort();
}

/** The last key of a path: what a user writes (`virtual_servers[].ops` -> `ops`). */
export function keyName(path: string): string {
  return path.slice(path.lastIndexOf('.') + 1);
}
