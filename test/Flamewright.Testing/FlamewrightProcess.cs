using System.Diagnostics;
using System.Text;

namespace Flamewright.Testing;

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

    /// <summary>The runtime settings the <c>flamewright</c> executable starts with (its runtimeconfig.json).</summary>
    public static string RuntimeConfigPath => Path.ChangeExtension(Dll, ".runtimeconfig.json");

    public static CliResult Run(params string[] args) => Run(args, null, null);

    /// <summary>
    /// Runs the executable to its end. The child gets this process's environment without any <c>SW_*</c> or
    /// <c>FLAMEWRIGHT_*</c> variable, plus <paramref name="environment"/>: tests see only the settings they give.
    /// </summary>
    public static CliResult Run(string[] args, IReadOnlyDictionary<string, string>? environment, string? workingDirectory, bool boundByFileModes = false)
    {
        using Process process = Start(args, environment, workingDirectory, boundByFileModes);
        process.StandardInput.Close();
        using var stdout = new MemoryStream();
        Task copy = process.StandardOutput.BaseStream.CopyToAsync(stdout);
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(120)))
        {
            process.Kill(entireProcessTree: true);
            Expect.Fail($"flamewright {string.Join(' ', args)} did not finish within 120 s");
        }

        process.WaitForExit();
        copy.Wait();
        return new CliResult(process.ExitCode, stdout.ToArray(), stderr.Result.Replace("\r\n", "\n", StringComparison.Ordinal));
    }

    /// <summary>Starts the executable with redirected streams and a clean environment (see <see cref="Run(string[], IReadOnlyDictionary{string, string}?, string?, bool)"/>).</summary>
    public static Process Start(string[] args, IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null) =>
        Start(args, environment, workingDirectory, boundByFileModes: false);

    /// <summary>
    /// Starts <c>flamewright</c>; with <paramref name="boundByFileModes"/>, a root caller (CI runs as root) starts it
    /// without the capabilities that let root ignore file modes, so that a read-only directory is read-only to it as
    /// it is to any service account.
    /// </summary>
    public static Process Start(string[] args, IReadOnlyDictionary<string, string>? environment, string? workingDirectory, bool boundByFileModes)
    {
        bool dropCapabilities = boundByFileModes && Environment.IsPrivilegedProcess;
        var start = new ProcessStartInfo(dropCapabilities ? "setpriv" : DotnetHost())
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Path.GetTempPath(),
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (string name in start.Environment.Keys.ToList())
        {
            if (name.StartsWith("SW_", StringComparison.OrdinalIgnoreCase) || name.StartsWith("FLAMEWRIGHT_", StringComparison.OrdinalIgnoreCase))
            {
                start.Environment.Remove(name);
            }
        }

        foreach ((string name, string value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        if (dropCapabilities)
        {
            foreach (string word in (string[])["--inh-caps=-all", "--bounding-set=-dac_override,-dac_read_search", "--", DotnetHost()])
            {
                start.ArgumentList.Add(word);
            }
        }

        start.ArgumentList.Add(Dll);
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        return Process.Start(start) ?? throw new InvalidOperationException("could not start " + Dll);
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
        string built = Path.Combine(TestData.RepositoryRoot, "src", "Flamewright.Cli", "bin", configuration, framework, "flamewright.dll");
        return File.Exists(built)
            ? built
            : throw new FileNotFoundException($"flamewright.dll is neither in {AppContext.BaseDirectory} nor at {built}: build src/Flamewright.Cli");
    }
}
