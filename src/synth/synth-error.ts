/** A problem with a flow that only synthesis can see (a function where a module reference is needed…). */
export class SynthError extends Error {
  override readonly name = "SynthError";
}
