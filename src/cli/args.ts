/** plakar-style flags: `-name value` or `-flag`, before positional arguments. */
import { KlosetError } from '../kloset/base/errors.js';

export type Flags = Record<string, string | boolean | string[]>;

export function parseFlags(args: string[], spec: Record<string, 'bool' | 'string' | 'list'>): { flags: Flags; rest: string[] } {
  const flags: Flags = {};
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith('-') && a.length > 1 && rest.length === 0) {
      const name = a.replace(/^--?/, '');
      const kind = spec[name];
      if (!kind) throw new KlosetError('UNSUPPORTED', `unknown flag ${a}`);
      if (kind === 'bool') flags[name] = true;
      else {
        const v = args[++i];
        if (v === undefined) throw new KlosetError('UNSUPPORTED', `flag ${a} needs a value`);
        if (kind === 'list') flags[name] = [...((flags[name] as string[]) ?? []), ...v.split(',')];
        else flags[name] = v;
      }
    } else rest.push(a);
  }
  return { flags, rest };
}
