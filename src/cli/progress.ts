/** One self-overwriting status line on stderr, only when stderr is a terminal, at most 5 per second. */
export function progressLine(): { update(text: string): void; done(): void } {
  const tty = process.stderr.isTTY === true;
  let last = 0;
  return {
    update(text) {
      if (!tty) return;
      const now = Date.now();
      if (now - last < 200) return;
      last = now;
      const width = process.stderr.columns ?? 100;
      process.stderr.write(`\r${text.length > width - 1 ? `…${text.slice(-(width - 2))}` : text}\x1b[K`);
    },
    done() {
      if (tty) process.stderr.write('\r\x1b[K');
    },
  };
}
