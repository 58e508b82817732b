namespace Flamewright.Benchmarks;

internal static class BenchmarkFiles
{
    /// <summary>The generated profile; <c>FLAMEWRIGHT_BENCH_PROFILE</c> points elsewhere.</summary>
    public static string LargeProfile =>
        Environment.GetEnvironmentVariable("FLAMEWRIGHT_BENCH_PROFILE") is { Length: > 0 } path
            ? path
            : Path.Combine(RepositoryRoot, "benchmarks", "data", "large-cpu.pb.gz");

    public static string RepositoryRoot
    {
        get
        {
            for (string? dir = Directory.GetCurrentDirectory(); dir is not null; dir = Path.GetDirectoryName(dir))
            {
                if (File.Exists(Path.Combine(dir, "Flamewright.slnx")))
                {
                    return dir;
                }
            }

            for (string? dir = AppContext.BaseDirectory; dir is not null; dir = Path.GetDirectoryName(dir))
            {
                if (File.Exists(Path.Combine(dir, "Flamewright.slnx")))
                {
                    return dir;
                }
            }

            throw new InvalidOperationException("run from inside the repository (Flamewright.slnx not found)");
        }
    }
}
