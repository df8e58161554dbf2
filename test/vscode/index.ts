/**
 * Entry of the real-VS-Code suite (extensionTestsPath → out/test/index.js): the usual
 * `run()` that code-server's smoke-test driver and @vscode/test-electron both call inside
 * the extension host. Test files are bundled in and registered on a fresh Mocha instance.
 */
import Mocha from 'mocha';

/** Runs the suite; rejects when any test failed. */
export async function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 120_000, reporter: 'spec' });
  const grep = process.env.PARPROF_VSCODE_GREP;
  if (grep) mocha.grep(grep);
  // Bundled test modules call describe/it at load time: expose Mocha's globals first.
  mocha.suite.emit('pre-require', globalThis, 'extension.test', mocha);
  await import('./extension.test');
  mocha.suite.emit('pre-require', globalThis, 'lint.test', mocha);
  await import('./lint.test');
  const stats = await new Promise<{ passes: number; failures: number; pending: number }>((resolve) => {
    const runner = mocha.run(() => resolve(runner.stats ?? { passes: 0, failures: 1, pending: 0 }));
  });
  const failures = stats.failures;
  console.log(`${stats.passes} passed, ${failures} failed, ${stats.pending} skipped`);
  if (failures > 0) throw new Error(`${failures} test(s) failed`);
}
