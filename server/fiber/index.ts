export { Fiber, sleep, type Outcome, type FiberState, type SpawnOptions } from './fiber.ts';
export { Mailbox, MailboxClosed, type MailboxOptions, type OverflowPolicy } from './mailbox.ts';
export { Mutex } from './mutex.ts';
export { Condition } from './condition.ts';
export { Cancelled, isCancelled, WaitQueue } from './wait-queue.ts';
