using System.Diagnostics;

namespace Flamewright.Testing;

/// <summary>Debian's Chromium, headless, as the tests drive it (installed by <c>.ci/setup</c>).</summary>
internal static class Chromium
{
    public static string Path { get; } = Environment.GetEnvironmentVariable("FLAMEWRIGHT_CHROMIUM") ?? "/usr/bin/chromium";

    /// <summary>Loads <paramref name="url"/>, lets its scripts run, and returns the page's DOM as HTML.</summary>
    public static string DumpDom(string url)
    {
        Expect.That(File.Exists(Path), $"Chromium not found at {Path}: run 'bash .ci/setup' (or set FLAMEWRIGHT_CHROMIUM)");
        string home = Directory.CreateTempSubdirectory("flamewright-chromium-").FullName;
        try
        {
            var start = new ProcessStartInfo(Path)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            // A clean environment: variables the test host inherits (a session bus address, for one) can keep
            // Chromium from ever exiting.
            start.Environment.Clear();
            start.Environment["PATH"] = "/usr/local/bin:/usr/bin:/bin";
            start.Environment["HOME"] = home;
            foreach (string arg in new[]
            {
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
                "--no-first-run", "--disable-component-update", "--disable-sync", $"--user-data-dir={home}/profile",
                "--virtual-time-budget=10000", "--dump-dom", url,
            })
            {
                start.ArgumentList.Add(arg);
            }

            using Process process = Process.Start(start)!;
            Task<string> stdout = process.StandardOutput.ReadToEndAsync();
            Task<string> stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
            {
                process.Kill(entireProcessTree: true);
                stderr.Wait(TimeSpan.FromSeconds(5));
                string said = stderr.IsCompleted ? stderr.Result : "";
                Expect.Fail("Chromium did not finish within 60 s; it said: " + said[Math.Max(0, said.Length - 1500)..]);
            }

            Task.WaitAll(stdout, stderr);
            return stdout.Result;
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }
}
