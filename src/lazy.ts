/**
 * A value built on its first use and kept. For zod schemas a run may never need: each
 * schema costs CPU to build (zod sets up every node's methods), and the CLI builds at
 * import whatever a module declares at its top level, on every run.
 */
export function lazy<T>(build: () => T): () => T {
  let built: { readonly value: T } | undefined;
  return () => {
    built ??= { value: build() };
    return built.value;
  };
}
