/**
 * A dispatcher built on first use. Engine clients (Glue, Athena, EMR, EMR Serverless) are large
 * modules, files of their own in the runtime bundle (`engine-entries/<engine>.js`, see handler.ts):
 * loading one only when a target actually runs on (or is polled on) that engine keeps the router's
 * cold start at the SDK's floor.
 */
import type { DispatchRequest, DispatchResult, Dispatcher } from "../core/dispatcher";

export class LazyDispatcher implements Dispatcher {
  private instance: Dispatcher | undefined;

  constructor(private readonly create: () => Dispatcher) {}

  private get target(): Dispatcher {
    this.instance ??= this.create();
    return this.instance;
  }

  start(request: DispatchRequest): Promise<DispatchResult> {
    return this.target.start(request);
  }

  async poll(handle: string, request: DispatchRequest): Promise<DispatchResult> {
    const t = this.target;
    if (!t.poll) return { status: "FAILED", error: "engine cannot be polled", transient: false };
    return t.poll(handle, request);
  }

  async kill(handle: string, request: DispatchRequest): Promise<void> {
    await this.target.kill?.(handle, request);
  }

  /** The engine's recovery; undefined (start again) for an engine without one, as without the wrapper. */
  async recover(request: DispatchRequest): Promise<DispatchResult | undefined> {
    const t = this.target;
    return t.recover ? t.recover(request) : undefined;
  }
}
