import { navigate } from '../route.ts';

/** Shown for an address that is not a valid room name. */
export function InvalidRoom({ name }: { name: string }) {
  return (
    <main className="welcome">
      <div className="welcome-card">
        <h1 className="brand">No such room</h1>
        <p className="welcome-lead">
          “{name}” is not a room name. Room names use lowercase letters, digits, “-” and “_”, up to 64 characters.
        </p>
        <a
          className="button primary"
          href="/"
          onClick={(e) => {
            e.preventDefault();
            navigate('/');
          }}
        >
          Go to the lobby
        </a>
      </div>
    </main>
  );
}
