/**
 * A minimal Marionette client (the remote protocol built into Firefox and Thunderbird):
 * length-prefixed JSON over TCP, `[0, id, command, params]` out, `[1, id, error, result]` back.
 * Only what the Thunderbird verifier needs: a session, the chrome context, async scripts.
 */
import { connect, type Socket } from 'node:net';

export class MarionetteClient {
  private buffer = Buffer.alloc(0);
  private nextId = 0;
  private readonly pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void }
  >();
  private hello?: (v: unknown) => void;
  private closedWith?: Error;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('error', (e) => this.fail(e));
    socket.on('close', () => this.fail(new Error('Marionette connection closed')));
  }

  /** Connects, retrying until `deadline` while the application is still starting. */
  static async connect(port: number, deadline: number): Promise<MarionetteClient> {
    for (;;) {
      try {
        const socket = await new Promise<Socket>((resolve, reject) => {
          const s = connect(port, '127.0.0.1', () => resolve(s));
          s.once('error', reject);
        });
        const client = new MarionetteClient(socket);
        await client.greeting();
        return client;
      } catch (e) {
        if (Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }

  private greeting(): Promise<unknown> {
    return new Promise((resolve) => (this.hello = resolve));
  }

  private fail(e: Error): void {
    this.closedWith ??= e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  private onData(d: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, d]);
    for (;;) {
      const colon = this.buffer.indexOf(0x3a);
      if (colon < 0) return;
      const length = Number(this.buffer.subarray(0, colon).toString('latin1'));
      if (this.buffer.length < colon + 1 + length) return;
      const packet: unknown = JSON.parse(
        this.buffer.subarray(colon + 1, colon + 1 + length).toString('utf8'),
      );
      this.buffer = this.buffer.subarray(colon + 1 + length);
      if (!Array.isArray(packet)) {
        this.hello?.(packet);
        continue;
      }
      const [, id, error, result] = packet as [number, number, unknown, unknown];
      const waiter = this.pending.get(id);
      this.pending.delete(id);
      if (!waiter) continue;
      if (error) {
        const e = error as { error?: string; message?: string };
        waiter.reject(new Error(`Marionette: ${e.error}: ${e.message}`));
      } else waiter.resolve(result);
    }
  }

  command(name: string, params: object = {}): Promise<unknown> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const id = ++this.nextId;
    const body = JSON.stringify([0, id, name, params]);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.socket.write(`${Buffer.byteLength(body)}:${body}`);
    });
  }

  /** Runs `script` with `args`; the script ends by calling its last argument with a result. */
  async executeAsync<T>(script: string, args: unknown[], timeoutMs: number): Promise<T> {
    const r = (await this.command('WebDriver:ExecuteAsyncScript', {
      script,
      args,
      scriptTimeout: timeoutMs,
    })) as { value: T };
    return r.value;
  }

  close(): void {
    this.socket.destroy();
  }
}
