/** "bob is typing…", announced politely to screen readers. */
export function TypingIndicator({ names }: { names: readonly string[] }) {
  return (
    <div className="typing" aria-live="polite">
      {typingText(names)}
    </div>
  );
}

export function typingText(names: readonly string[]): string {
  const [a, b] = names;
  if (a === undefined) return '';
  if (b === undefined) return `${a} is typing…`;
  if (names.length === 2) return `${a} and ${b} are typing…`;
  return `${names.length} people are typing…`;
}
