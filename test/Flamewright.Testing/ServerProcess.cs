using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Flamewright.Testing;

/// <summary>
/// A real <c>flamewright server</c> process on free loopback ports with its own data directory. Disposing kills
/// it and deletes the directory.
/// </summary>
internal sealed class ServerProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private readonly bool _ownsDataDir;

    private ServerProcess(Process process, int grpcPort, int httpPort, string dataDir, bool ownsDataDir)
    {
        _ownsDataDir = ownsDataDir;
        _process = process;
        GrpcPort = grpcPort;
        HttpPort = httpPort;
        DataDir = dataDir;
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int GrpcPort { get; }

    public int HttpPort { get; }

    public string DataDir { get; }

    public string HttpAddress => $"http://127.0.0.1:{HttpPort}";

    public Uri GrpcAddress => new($"http://127.0.0.1:{GrpcPort}");

    public Process Process => _process;

    /// <summary>Everything the server printed so far.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts a server and waits until <c>/healthz</c> answers.</summary>
    /// <param name="dataDir">An existing data directory, kept on dispose; <c>null</c> makes a fresh one that is deleted.</param>
    /// <param name="extraArgs">More flags for the server.</param>
    public static Task<ServerProcess> StartAsync(string? dataDir = null, params string[] extraArgs) =>
        StartOnAsync(FreePort(), FreePort(), dataDir, extraArgs);

    /// <summary>Starts a server on the given ports (to restart one where its agents look for it).</summary>
    public static Task<ServerProcess> StartOnAsync(int grpc, int http, string? dataDir, params string[] extraArgs) =>
        StartOnAsync(grpc, http, dataDir, null, extraArgs);

    /// <summary>Starts a server with settings in its environment too (secrets such as API tokens have no flag).</summary>
    public static Task<ServerProcess> StartWithEnvironmentAsync(IReadOnlyDictionary<string, string> environment, params string[] extraArgs) =>
        StartOnAsync(FreePort(), FreePort(), null, environment, extraArgs);

    /// <summary>A server bound by file modes even when the tests run as root (see <see cref="FlamewrightProcess.Start(string[], IReadOnlyDictionary{string, string}?, string?, bool)"/>).</summary>
    public static Task<ServerProcess> StartBoundByFileModesAsync(string dataDir) =>
        StartOnAsync(FreePort(), FreePort(), dataDir, null, [], boundByFileModes: true);

    private static async Task<ServerProcess> StartOnAsync(
        int grpc, int http, string? dataDir, IReadOnlyDictionary<string, string>? environment, string[] extraArgs, bool boundByFileModes = false)
    {
        bool owns = dataDir is null;
        dataDir ??= Directory.CreateTempSubdirectory("flamewright-server-").FullName;
        Process process = FlamewrightProcess.Start(
            ["server", "--grpc-port", grpc.ToString(), "--http-port", http.ToString(), "--data-dir", dataDir, .. extraArgs], environment, null, boundByFileModes);
        var server = new ServerProcess(process, grpc, http, dataDir, owns);
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        DateTime deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                break;
            }

            try
            {
                if ((await client.GetStringAsync($"{server.HttpAddress}/healthz")).Trim() == "ok")
                {
                    return server;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            await Task.Delay(100);
        }

        string output = server.Output;
        server.Dispose();
        throw new InvalidOperationException($"the server did not become healthy; it printed:\n{output}");
    }

    /// <summary>Asks the server to stop as a service manager would (SIGTERM) and returns its exit code.</summary>
    public int Terminate()
    {
        using Process kill = Process.Start("kill", ["-TERM", _process.Id.ToString()])!;
        kill.WaitForExit();
        if (!_process.WaitForExit(TimeSpan.FromSeconds(30)))
        {
            Expect.Fail("the server did not stop within 30 s of SIGTERM");
        }

        _process.WaitForExit();
        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process.Dispose();
        if (_ownsDataDir && Directory.Exists(DataDir))
        {
            Directory.Delete(DataDir, recursive: true);
        }
    }

    /// <summary>A port free at this moment on loopback.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }
}
