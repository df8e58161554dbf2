/**
 * The main thread's inspector attach to its workers (reach.ts): Node crashes the process
 * (SIGSEGV in MainThreadHandle::Connect) when NodeWorker.enable meets a worker that is shutting
 * down, so the attach is refused then, under a handshake word an exiting worker waits on.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ThreadReach } from '../../src/agent/reach';
import { PCTL_ATTACHING } from '../../src/agent/state';
import { PCTL_WORDS } from '../../src/agent/threads';

describe('agent: reaching workers through the inspector', () => {
  it('does not attach while a worker is shutting down, and says so (the caller falls back)', () => {
    const pctl = new Int32Array(new SharedArrayBuffer(PCTL_WORDS * 4));
    const reach = new ThreadReach(pctl);
    let seen = -1;
    reach.childExiting = () => {
      seen = Atomics.load(pctl, PCTL_ATTACHING);
      return true;
    };
    assert.equal(reach.flush([7], 'terminate'), false);
    assert.equal(reach.flush(null, 'exit'), false);
    assert.equal(seen, 1, 'the attaching word is set before the children are looked at');
    assert.equal(Atomics.load(pctl, PCTL_ATTACHING), 0, 'and cleared after');
    assert.equal((reach as any).session, null, 'no NodeWorker session was opened');
    // Once no worker is exiting, the attach goes ahead (no workers here: nothing to reach).
    reach.childExiting = () => false;
    assert.equal(reach.flush(null, 'exit'), true);
    assert.notEqual((reach as any).session, null);
    assert.equal(reach.flush([7], 'terminate'), false, 'thread 7 does not exist');
    assert.equal(Atomics.load(pctl, PCTL_ATTACHING), 0);
    reach.close();
  });
});
