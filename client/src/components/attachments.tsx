import { useEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import type { Attachment } from '../../../shared/protocol.ts';
import { downloadFile, fileObjectUrl, sizeText } from '../core/files.ts';
import { useChatSnapshot } from '../hooks/use-chat.ts';
import { useRoom } from '../hooks/use-room.ts';

/** Longest side of an inline thumbnail, in CSS pixels (the server's small thumbnail). */
const THUMB_PX = 320;

/**
 * A message's files: images as thumbnails laid out at their final size
 * before they load (width and height come with the message), opening a
 * viewer; other files as a name and size that download. Bytes are read with
 * the session's token (core/files.ts), never through a URL that carries it.
 */
export function Attachments({ attachments }: { attachments: readonly Attachment[] }) {
  const [viewing, setViewing] = useState<string | null>(null);
  return (
    <div className="msg-files">
      {attachments.map((a) =>
        a.thumb && a.width && a.height ? (
          <button key={a.id} type="button" className="msg-image" onClick={() => setViewing(a.id)} aria-label={`Open image ${a.name}`} style={thumbBox(a.width, a.height)}>
            <AuthImage src={a.thumb} alt={a.name} />
          </button>
        ) : (
          <FileChip key={a.id} file={a} />
        ),
      )}
      {viewing && <ImageViewer startId={viewing} onClose={() => setViewing(null)} />}
    </div>
  );
}

function thumbBox(width: number, height: number): { width: number; height: number } {
  const scale = Math.min(1, THUMB_PX / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/** An image read with the session's token. */
function AuthImage({ src, alt, className }: { src: string; alt: string; className?: string }) {
  const token = useChatSnapshot().session?.token;
  const [url, setUrl] = useState<string | null>(null);
  const [failed, setFailed] = useState<string | null>(null);
  useEffect(() => {
    if (!token) return;
    let live = true;
    fileObjectUrl(token, src).then(
      (u) => live && setUrl(u),
      (err: Error) => live && setFailed(err.message === '410' ? 'removed' : 'unavailable'),
    );
    return () => {
      live = false;
    };
  }, [token, src]);
  if (failed) return <span className="msg-image-missing">image {failed}</span>;
  return url ? <img className={className} src={url} alt={alt} /> : <span className="msg-image-loading" role="img" aria-label={`${alt} (loading)`} />;
}

function FileChip({ file }: { file: Attachment }) {
  const token = useChatSnapshot().session?.token;
  const [error, setError] = useState<string | null>(null);
  const save = () => {
    if (!token) return;
    setError(null);
    downloadFile(token, file.url, file.name).catch((err: Error) => setError(err.message === '410' ? 'This file was removed' : 'The file could not be downloaded'));
  };
  return (
    <span className="msg-file">
      <button type="button" className="msg-file-button" onClick={save} aria-label={`Download ${file.name}, ${sizeText(file.size)}`}>
        <span aria-hidden="true" className="msg-file-icon">
          📄
        </span>
        <bdi className="msg-file-name">{file.name}</bdi>
        <span className="msg-file-size">{sizeText(file.size)}</span>
      </button>
      {error && (
        <span className="form-error" role="alert">
          {error}
        </span>
      )}
    </span>
  );
}

/**
 * The room's images, one at a time, large (the 1280 px thumbnail), in a
 * modal dialog: Esc closes it, the arrow keys step through the images of the
 * room's loaded messages, and it offers the original as a download.
 */
function ImageViewer({ startId, onClose }: { startId: string; onClose: () => void }) {
  const room = useRoom();
  const { rooms, session } = useChatSnapshot();
  const messages = rooms[room]?.messages;
  const images = useMemo(() => (messages ?? []).flatMap((m) => (m.deleted ? [] : (m.attachments ?? []).filter((a) => a.thumb))), [messages]);
  const [id, setId] = useState(startId);
  const dialog = useRef<HTMLDialogElement>(null);
  const index = Math.max(0, images.findIndex((a) => a.id === id));
  const image = images[index];

  const close = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    const d = dialog.current;
    if (d && !d.open) d.showModal();
    // The dialog would focus its first button (Previous), which a step may disable, dropping focus.
    close.current?.focus();
    return () => d?.close();
  }, []);

  const step = (by: number) => {
    const next = images[index + by];
    if (next) setId(next.id);
  };
  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') {
      e.preventDefault();
      e.stopPropagation();
      step(e.key === 'ArrowLeft' ? -1 : 1);
    }
  };
  if (!image) return null;
  return (
    // Esc is the dialog's own cancel; a click on the backdrop closes it too.
    <dialog ref={dialog} className="image-viewer" aria-label={`Image ${index + 1} of ${images.length}: ${image.name}`} onClose={onClose} onKeyDown={onKeyDown} onClick={(e) => e.target === e.currentTarget && onClose()}>
      <figure className="image-viewer-figure">
        <AuthImage key={image.id} className="image-viewer-img" src={image.thumb?.replace(/size=\d+$/, 'size=1280') ?? image.url} alt={image.name} />
        <figcaption>
          <bdi>{image.name}</bdi> · {image.width} × {image.height} · {sizeText(image.size)}
        </figcaption>
      </figure>
      <div className="image-viewer-bar">
        <button type="button" className="button small" onClick={() => step(-1)} disabled={index === 0} aria-label="Previous image">
          ←
        </button>
        <button type="button" className="button small" onClick={() => session && void downloadFile(session.token, image.url, image.name)}>
          Download original
        </button>
        <button type="button" className="button small" onClick={() => step(1)} disabled={index === images.length - 1} aria-label="Next image">
          →
        </button>
        <button ref={close} type="button" className="button ghost small" onClick={onClose}>
          Close
        </button>
      </div>
    </dialog>
  );
}
