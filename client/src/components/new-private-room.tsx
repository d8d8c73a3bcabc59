import { useState, type FormEvent } from 'react';
import { checkName } from '../../../shared/text-rules.ts';
import { useChatClient } from '../hooks/use-chat.ts';
import { navigate, roomPath } from '../route.ts';

/** "New private room": a title, then the room (only its creator is in it until they invite people). */
export function NewPrivateRoom() {
  const client = useChatClient();
  const [title, setTitle] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (busy) return;
    // A title follows the name rules (shared with the server).
    const check = checkName(title);
    if (!check.ok) return setError(check.message);
    setBusy(true);
    const r = await client.actions.createRoom(check.value);
    setBusy(false);
    if (!r.ok) return setError(r.message);
    setError(null);
    setTitle('');
    navigate(roomPath(r.room));
  };

  return (
    <section className="panel-section" aria-labelledby="new-private-title">
      <h2 id="new-private-title" className="panel-title">
        New private room
      </h2>
      <form className="room-form" onSubmit={(e) => void submit(e)}>
        <label className="field-label" htmlFor="private-title">
          Title
        </label>
        <div className="inline-field">
          <input
            id="private-title"
            className="text-input"
            value={title}
            maxLength={64}
            placeholder="e.g. Launch plans"
            onChange={(e) => setTitle(e.target.value)}
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? 'private-title-error' : undefined}
          />
          <button type="submit" className="button" aria-disabled={busy || undefined}>
            Create
          </button>
        </div>
        {error && (
          <p id="private-title-error" className="form-error">
            {error}
          </p>
        )}
      </form>
    </section>
  );
}
