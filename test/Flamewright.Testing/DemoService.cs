using System.Diagnostics;

namespace Flamewright.Testing;

/// <summary>
/// The Go demo service of <c>testdata/demo</c> (net/http/pprof on loopback, named workloads), built once per
/// test run with Debian's <c>go</c> and started per test.
/// </summary>
internal sealed class DemoService : IDisposable
{
    private static readonly Lazy<string> s_binary = new(Build);
    private readonly Process _process;

    private DemoService(Process process, Uri address)
    {
        _process = process;
        Address = address;
    }

    /// <summary>The pprof base address, e.g. <c>http://127.0.0.1:41234</c>.</summary>
    public Uri Address { get; }

    public static DemoService Start(params string[] args)
    {
        var start = new ProcessStartInfo(s_binary.Value)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // The demo ends on its own after the longest a test may take, so a test that dies cannot leave it burning a core.
        foreach (string arg in (string[])["-exit-after", $"{Spec.ProcessTimeout / 1000}s", .. args])
        {
            start.ArgumentList.Add(arg);
        }

        Process process = Process.Start(start) ?? throw new InvalidOperationException("could not start the demo");
        process.ErrorDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        Task<string?> line = process.StandardOutput.ReadLineAsync();
        if (!line.Wait(TimeSpan.FromSeconds(30)) || line.Result is not { } text || !text.StartsWith("listening on ", StringComparison.Ordinal))
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException("the demo did not say where it listens");
        }

        return new DemoService(process, new Uri(text["listening on ".Length..].Trim()));
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process.Dispose();
    }

    private static string Build()
    {
        string output = Path.Combine(Path.GetTempPath(), $"flamewright-demo-{Environment.ProcessId}");
        var start = new ProcessStartInfo("bash", [Path.Combine(TestData.RepositoryRoot, "testdata", "demo", "build.sh"), output])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using Process build = Process.Start(start)!;
        string errors = build.StandardError.ReadToEnd();
        build.StandardOutput.ReadToEnd();
        build.WaitForExit();
        Expect.That(build.ExitCode == 0, $"building testdata/demo failed: {errors}");
        return output;
    }
}
