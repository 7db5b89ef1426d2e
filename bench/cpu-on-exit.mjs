// Preloaded into a measured process (`node --import ./bench/cpu-on-exit.mjs …`): prints its
// own CPU time (user + system) as the last stderr line when it exits, so the benchmark
// measures kproxy and its floor the same way, whatever else the machine is doing.
process.on('exit', () => {
  const { user, system } = process.cpuUsage();
  process.stderr.write(`\ncpu-ms ${Math.round((user + system) / 1000)}\n`);
});
