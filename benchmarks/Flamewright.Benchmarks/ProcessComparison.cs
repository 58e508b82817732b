using System.Diagnostics;
using System.Globalization;

namespace Flamewright.Benchmarks;

/// <summary>
/// Whole-process comparison on the same file: <c>flamewright analyze --format top</c> against
/// <c>go tool pprof -top</c> and <c>gzip -dc</c>, timed and with peak memory read by GNU time (<c>%e %M</c>).
/// </summary>
internal static class ProcessComparison
{
    public static int Run(string flamewright, int runs, int pprofRuns)
    {
        string file = BenchmarkFiles.LargeProfile;
        if (!File.Exists(file))
        {
            Console.Error.WriteLine($"no profile at {file}: run 'generate' first");
            return 2;
        }

        Console.WriteLine($"file: {file} ({new FileInfo(file).Length / 1048576.0:F1} MiB)");
        var commands = new (string Name, string Shell, int Runs)[]
        {
            ("gzip -dc (floor)", $"gzip -dc '{file}' > /dev/null", runs),
            ("flamewright analyze --format top", $"'{flamewright}' analyze --format top '{file}' > /dev/null", runs),
            ("flamewright analyze --format svg", $"'{flamewright}' analyze --format svg '{file}' > /dev/null", runs),
            ("go tool pprof -top", $"go tool pprof -symbolize=none -top '{file}' > /dev/null 2>&1", pprofRuns),
        };
        foreach ((string name, string shell, int count) in commands.Where(c => c.Runs > 0))
        {
            var seconds = new List<double>();
            var kib = new List<long>();
            for (int i = 0; i < count; i++)
            {
                (double s, long k, _) = Measure(shell);
                seconds.Add(s);
                kib.Add(k);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {name}: run {i + 1}/{count}: {s:F2} s, peak {k / 1024.0:F0} MiB"));
            }

            seconds.Sort();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{name,-34} median {seconds[seconds.Count / 2],7:F2} s   peak RSS {kib.Max() / 1024.0,7:F0} MiB"));
        }

        return 0;
    }

    /// <summary>Runs a shell command; its wall time, peak resident memory and CPU time, as GNU time reports them.</summary>
    public static (double Seconds, long PeakKib, double CpuSeconds) Measure(string shell)
    {
        string report = Path.GetTempFileName();
        try
        {
            var start = new ProcessStartInfo("/usr/bin/time", ["-f", "%e %M %U %S", "-o", report, "sh", "-c", shell])
            {
                UseShellExecute = false,
            };
            using Process process = Process.Start(start)!;
            if (!process.WaitForExit(TimeSpan.FromMinutes(10)))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException(shell + " ran for more than 10 minutes");
            }

            string[] fields = File.ReadAllLines(report)[^1].Split(' ');
            return (double.Parse(fields[0], CultureInfo.InvariantCulture), long.Parse(fields[1], CultureInfo.InvariantCulture),
                double.Parse(fields[2], CultureInfo.InvariantCulture) + double.Parse(fields[3], CultureInfo.InvariantCulture));
        }
        finally
        {
            File.Delete(report);
        }
    }
}
