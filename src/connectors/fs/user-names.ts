/**
 * uid/gid → user and group names for FileInfo.username/groupname. Node has no getpwuid, so the
 * local databases are read once (/etc/passwd, /etc/group); unknown ids give "".
 */
import { readFileSync } from 'node:fs';

function parse(file: string): Map<number, string> {
  const names = new Map<number, string>();
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return names;
  }
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length >= 3 && f[0] && !line.startsWith('#')) {
      const id = Number(f[2]);
      if (Number.isInteger(id) && !names.has(id)) names.set(id, f[0]);
    }
  }
  return names;
}

let users: Map<number, string> | undefined;
let groups: Map<number, string> | undefined;

export function userName(uid: number): string {
  return (users ??= parse('/etc/passwd')).get(uid) ?? '';
}

export function groupName(gid: number): string {
  return (groups ??= parse('/etc/group')).get(gid) ?? '';
}
