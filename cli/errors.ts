/** A user-facing failure: already rendered, with the exit code to use. Thrown only inside the CLI. */
export class CliError extends Error {
  constructor(
    readonly rendered: string,
    readonly exitCode = 1,
  ) {
    super(rendered);
  }
}
