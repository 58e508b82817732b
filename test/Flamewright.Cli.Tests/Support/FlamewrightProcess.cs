using System.Diagnostics;
using System.Text;

namespace Flamewright.Cli.Tests.Support;

/// <summary>What one run of the executable did.</summary>
internal sealed record CliResult(int ExitCode, byte[] Stdout, string Stderr)
{
    public string Text => Encoding.UTF8.GetString(Stdout);

    /// <summary>Standard error's lines, without the empty string after the final line break.</summary>
    public string[] StderrLines => Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    public override string ToString() => $"exit {ExitCode}, stderr: {Stderr}";
}

/// <summary>Runs the real <c>flamewright</c> executable as a child process.</summary>
internal static class FlamewrightProcess
{
    private static readonly string Dll = FindDll();

    public static CliResult Run(params string[] args)
    {
        var start = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
            StandardErrorEncoding = Encoding.UTF8,
        };
        start.ArgumentList.Add(Dll);
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using Process process = Process.Start(start) ?? throw new InvalidOperationException("could not start " + Dll);
        process.StandardInput.Close();
        using var stdout = new MemoryStream();
        Task copy = process.StandardOutput.BaseStream.CopyToAsync(stdout);
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(120)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"flamewright {string.Join(' ', args)} did not finish within 120 s");
        }

        process.WaitForExit();
        copy.Wait();
        return new CliResult(process.ExitCode, stdout.ToArray(), stderr.Result.Replace("\r\n", "\n", StringComparison.Ordinal));
    }

    /// <summary>The <c>dotnet</c> host running the tests, else the one on PATH.</summary>
    private static string DotnetHost()
    {
        string? host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        return !string.IsNullOrEmpty(host) && File.Exists(host) ? host : "dotnet";
    }

    /// <summary>
    /// flamewright.dll as the project reference copies it next to the test assembly, else where the CLI project
    /// builds it (src/Flamewright.Cli/bin/&lt;Configuration&gt;/net10.0).
    /// </summary>
    private static string FindDll()
    {
        string beside = Path.Combine(AppContext.BaseDirectory, "flamewright.dll");
        if (File.Exists(beside) && File.Exists(Path.Combine(AppContext.BaseDirectory, "flamewright.runtimeconfig.json")))
        {
            return beside;
        }

        string framework = new DirectoryInfo(AppContext.BaseDirectory).Name;
        string configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        string built = Path.Combine(Repository.Root, "src", "Flamewright.Cli", "bin", configuration, framework, "flamewright.dll");
        return File.Exists(built)
            ? built
            : throw new FileNotFoundException($"flamewright.dll is neither in {AppContext.BaseDirectory} nor at {built}: build src/Flamewright.Cli");
    }
}
