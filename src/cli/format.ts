/** Human-readable sizes and dates for CLI output. */
export function humanSize(n: number | bigint): string {
  let v = Number(n);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
}

/** the last time isoTime formatted, and its text */
let lastSec = NaN, lastIso = '';

/** UTC time to the second, as ISO 8601 (`2023-11-14T22:13:20Z`). */
export function isoTime(sec: number): string {
  // listings format one time per entry, and neighbours often share theirs: the last is kept
  if (sec === lastSec) return lastIso;
  lastSec = sec;
  return (lastIso = new Date(sec * 1000).toISOString().slice(0, -5) + 'Z'); // whole seconds: always ".000Z"
}

/** Go FileMode as `ls -l` shows it (drwxr-xr-x, lrwxrwxrwx…). */
export function modeString(mode: number): string {
  const type = mode & 0x80000000 ? 'd' : mode & (1 << 27) ? 'l' : mode & (1 << 25) ? 'p' : mode & (1 << 24) ? 's' : mode & (1 << 26) ? (mode & (1 << 21) ? 'c' : 'b') : '-';
  let s = type;
  for (let i = 8; i >= 0; i--) s += mode & (1 << i) ? 'rwx'[(8 - i) % 3] : '-';
  return s;
}
