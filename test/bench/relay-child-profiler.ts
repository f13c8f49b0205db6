/**
 * Preloaded into the relay child (`node -r @swc-node/register -r relay-child-profiler.ts`) when
 * the bench profiles it: the V8 CPU profiler, started and stopped over the IPC channel, so the
 * profile covers one flow and is written without the process having to exit.
 *   { profile: 'start' }           → { profile: 'started' }
 *   { profile: 'stop', file }      → { profile: 'stopped' } once `file` is written
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

interface ProfileRequest {
  profile?: 'start' | 'stop';
  file?: string;
}

if (process.send) {
  const session = new Session();
  session.connect();
  const reply = (profile: string): void => {
    process.send?.({ profile });
  };
  process.on('message', (m: ProfileRequest) => {
    if (m.profile === 'start') {
      session.post('Profiler.enable', () => session.post('Profiler.start', () => reply('started')));
    } else if (m.profile === 'stop' && m.file) {
      const file = m.file;
      session.post('Profiler.stop', (error, result) => {
        if (!error) writeFileSync(file, JSON.stringify(result.profile));
        reply(error ? `error: ${error.message}` : 'stopped');
      });
    }
  });
  // The IPC channel must not keep the relay alive on its own, nor outlive the bench.
  process.channel?.unref();
  process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'));
}
