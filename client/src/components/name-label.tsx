/**
 * A display name as every part of the UI shows one: isolated in `<bdi>`, so
 * a right-to-left name cannot reorder the words around it ("(you)", "is
 * typing…"), and followed by its tag when another person in view has a name
 * that reads the same. The tag's text starts with a space, so a screen reader
 * says "alice K3F9", not "aliceK3F9".
 */
export function NameLabel({ name, tag, className }: { name: string; tag: string | null; className?: string }) {
  return (
    <>
      <bdi className={className}>{name}</bdi>
      {tag !== null && (
        <span className="name-tag" title="Someone else here has the same name; this tag tells you apart">
          {` ${tag}`}
        </span>
      )}
    </>
  );
}

/** The same as text, for live regions and labels: "alice" or "alice K3F9". */
export function nameText(name: string, tag: string | null): string {
  return tag === null ? name : `${name} ${tag}`;
}
