/** The flush-request words a child thread polls (AgentContext.poll) between the slices of a watched wait. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CTL_REQUEST, PCTL_REQUEST, PCTL_WORDS, pendingRequest, REQ_EXIT, REQ_SIGNAL, REQ_TERMINATE } from '../../src/agent/threads';

describe('agent: flush requests in shared memory', () => {
  it('reads no request, a terminate from the parent, and an exit or signal from the main thread', () => {
    const ctl = new Int32Array(new SharedArrayBuffer(16));
    const pctl = new Int32Array(new SharedArrayBuffer(PCTL_WORDS * 4));
    assert.equal(pendingRequest(ctl, pctl), null);
    Atomics.store(pctl, PCTL_REQUEST, REQ_EXIT);
    assert.equal(pendingRequest(ctl, pctl), 'exit');
    Atomics.store(pctl, PCTL_REQUEST, REQ_SIGNAL);
    assert.equal(pendingRequest(ctl, pctl), 'signal');
    assert.equal(pendingRequest(null, pctl), 'signal', 'a thread without a parent control buffer');
    Atomics.store(ctl, CTL_REQUEST, REQ_TERMINATE);
    assert.equal(pendingRequest(ctl, pctl), 'terminate', "the parent's own request comes first");
  });
});
