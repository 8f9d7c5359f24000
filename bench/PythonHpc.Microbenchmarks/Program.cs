using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/PythonHpc.Microbenchmarks -- --filter '*'
// (BenchmarkDotNet's own options follow: --filter '*Render*', --job short, --memory, --profiler EP, …)
BenchmarkSwitcher.FromAssembly(typeof(PythonHpc.Microbenchmarks.Sample).Assembly).Run(args);
