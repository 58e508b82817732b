using System.Collections;
using System.Diagnostics;
using System.Globalization;
using Flamewright.Server.Configuration;
using Flamewright.Server.Hosting;
using Microsoft.Extensions.Logging;

namespace Flamewright.Benchmarks.Server;

/// <summary>
/// A server under measurement, in its own process as in production: this program's <c>serve</c> command (a real
/// <c>flamewright server</c>) or <c>serve-sink</c> (the <see cref="BareGrpcSink"/>). Its own process keeps the
/// agents' CPU apart from the server's, gives a truly cold runtime for first-query figures, and runs with the GC
/// settings of the <c>flamewright</c> executable (workstation, non-concurrent, ConserveMemory 7) unless DOTNET_gcServer,
/// DOTNET_gcConcurrent or DOTNET_GCConserveMemory say otherwise.
/// </summary>
internal sealed class MeasuredServer : IDisposable
{
    private const string Ready = "serving ";

    private readonly Process _process;
    private readonly Task _output;

    private MeasuredServer(Process process, Uri grpcAddress, Uri? httpAddress, Task output)
    {
        _process = process;
        GrpcAddress = grpcAddress;
        HttpAddress = httpAddress;
        _output = output;
    }

    /// <summary>Where agents connect.</summary>
    public Uri GrpcAddress { get; }

    /// <summary>GraphQL and REST; <c>null</c> for the sink.</summary>
    public Uri? HttpAddress { get; }

    /// <summary>CPU time the process has used so far.</summary>
    public double CpuSeconds
    {
        get
        {
            _process.Refresh();
            return _process.TotalProcessorTime.TotalSeconds;
        }
    }

    /// <summary>
    /// Minor page faults of the process so far (Linux; 0 elsewhere): on this VM first touching a fresh page is
    /// expensive, so they are part of where the time goes.
    /// </summary>
    public long MinorFaults => ProcStat.Read(_process.Id)?.MinorFaults ?? 0;

    /// <summary>Whether the process has ended (say, killed by the kernel's OOM killer): no figure can be read from it then.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>Bytes of the process resident in memory now (Linux; 0 elsewhere).</summary>
    public long ResidentBytes => ProcStat.StatusBytes(_process.Id, "VmRSS") ?? 0;

    /// <summary>The most bytes the process has had resident at once since it started (Linux; 0 elsewhere).</summary>
    public long PeakResidentBytes => ProcStat.StatusBytes(_process.Id, "VmHWM") ?? 0;

    public static string NewDataDirectory(string purpose) =>
        Path.Combine(Path.GetTempPath(), $"flamewright-bench-{purpose}-{Guid.NewGuid():N}");

    /// <summary>
    /// Starts <c>flamewright server</c> on free loopback ports, storing in SQLite in <paramref name="dataDirectory"/>,
    /// or in the PostgreSQL database <paramref name="postgres"/> (an Npgsql connection string) when given; the data
    /// directory then holds only temporary uploads.
    /// </summary>
    public static Task<MeasuredServer> StartServerAsync(string dataDirectory, string? postgres = null) =>
        postgres is null ? StartAsync("serve", dataDirectory) : StartAsync("serve", dataDirectory, postgres);

    public static Task<MeasuredServer> StartSinkAsync() => StartAsync("serve-sink");

    /// <summary>
    /// The child's side, <c>serve DATA_DIR [POSTGRES_CONNECTION_STRING]</c> or <c>serve-sink</c>: starts, prints
    /// <c>serving GRPC [HTTP]</c>, and stops when its standard input closes.
    /// </summary>
    public static async Task<int> ServeAsync(string command, string? dataDirectory, string? postgres)
    {
        if (command == "serve-sink")
        {
            await using BareGrpcSink sink = await BareGrpcSink.StartAsync();
            Console.WriteLine(Ready + sink.Address);
            await Console.In.ReadToEndAsync();
            return 0;
        }

        FlamewrightServer server = await StartFlamewrightAsync(dataDirectory ?? throw new ArgumentNullException(nameof(dataDirectory)), postgres);
        using var memory = new ManagedMemoryWatch();
        Console.WriteLine($"{Ready}{server.GrpcAddress} {server.HttpAddress}");
        await Console.In.ReadToEndAsync();
        Console.WriteLine(memory.Summary());
        await server.StopAsync();
        await server.DisposeAsync();
        return 0;
    }

    /// <summary>
    /// As <c>flamewright server --grpc-port 0 --http-port 0 --data-dir DIR</c> (with <c>--storage postgresql</c> and
    /// the connection string, when given) would start it, with no appsettings.json taken in and of the environment only
    /// <c>FLAMEWRIGHT_SERVER__*</c> settings (to measure a variant, e.g. <c>FLAMEWRIGHT_SERVER__DIGESTUPLOADS=false</c>); only
    /// warnings and errors are logged (to the console), one line per upload would drown the benchmark's own lines.
    /// </summary>
    private static async Task<FlamewrightServer> StartFlamewrightAsync(string dataDirectory, string? postgres)
    {
        var flags = new Dictionary<string, (string, string)>(StringComparer.OrdinalIgnoreCase)
        {
            [nameof(ServerOptions.GrpcPort)] = ("0", "benchmark"),
            [nameof(ServerOptions.HttpPort)] = ("0", "benchmark"),
            [nameof(ServerOptions.DataDir)] = (dataDirectory, "benchmark"),
        };
        if (postgres is not null)
        {
            flags[nameof(ServerOptions.Storage)] = ("postgresql", "benchmark");
            flags[nameof(ServerOptions.PostgresConnectionString)] = (postgres, "benchmark");
        }
        var environment = new Hashtable();
        foreach (DictionaryEntry variable in Environment.GetEnvironmentVariables())
        {
            if (variable.Key is string name && name.StartsWith("FLAMEWRIGHT_SERVER__", StringComparison.Ordinal))
            {
                environment[name] = variable.Value;
            }
        }

        ServerSettings settings = ServerSettings.Load(flags, null, environment);
        FlamewrightServer server = FlamewrightServer.Create(settings, logging => logging
            .AddSimpleConsole(console => console.SingleLine = true)
            .SetMinimumLevel(LogLevel.Warning));
        // As flamewright server does.
        server.LimitManagedHeap();
        await server.StartAsync();
        return server;
    }

    private static async Task<MeasuredServer> StartAsync(params string[] arguments)
    {
        string self = Environment.ProcessPath!;
        var start = new ProcessStartInfo(self)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
        };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            start.ArgumentList.Add(typeof(MeasuredServer).Assembly.Location);
        }

        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // The flamewright executable's GC settings (Flamewright.Cli.csproj), unless this program was started with
        // others to try (e.g. DOTNET_gcServer=1); this program's own runtimeconfig differs.
        start.Environment.TryAdd("DOTNET_gcServer", "0");
        start.Environment.TryAdd("DOTNET_gcConcurrent", "0");
        start.Environment.TryAdd("DOTNET_GCConserveMemory", "7");
        var clock = Stopwatch.StartNew();
        Process process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        while (await process.StandardOutput.ReadLineAsync(timeout.Token) is string line)
        {
            if (line.StartsWith(Ready, StringComparison.Ordinal))
            {
                string[] addresses = line[Ready.Length..].Split(' ');
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {arguments[0]} process {process.Id} ready in {clock.Elapsed.TotalSeconds:F2} s"));
                return new MeasuredServer(process, new Uri(addresses[0]), addresses.Length > 1 ? new Uri(addresses[1]) : null, ForwardAsync(process.StandardOutput));
            }

            Console.WriteLine("  [server] " + line);
        }

        throw new InvalidOperationException($"the {arguments[0]} process ended before it served");
    }

    private static async Task ForwardAsync(StreamReader output)
    {
        while (await output.ReadLineAsync() is string line)
        {
            Console.WriteLine("  [server] " + line);
        }
    }

    /// <summary>Closing its input stops the server; it is killed only if it has not exited 30 s later.</summary>
    public void Dispose()
    {
        _process.StandardInput.Close();
        if (!_process.WaitForExit(TimeSpan.FromSeconds(30)))
        {
            _process.Kill(entireProcessTree: true);
        }

        _output.Wait(TimeSpan.FromSeconds(5));
        _process.Dispose();
    }

    /// <summary>
    /// Waits (up to a minute) until the server that received the uploads has kept the task's default view in storage;
    /// a build that keeps none (before schema version 3) is not waited for.
    /// </summary>
    public static async Task WaitForKeptViewAsync(string dataDirectory)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromMinutes(1))
        {
            if (await DatabaseAsync(dataDirectory, "SELECT COUNT(*) FROM task_views") is long views && views > 0)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  default view kept {clock.Elapsed.TotalSeconds:F1} s after the last upload"));
                // Its first look is written right after it (a build from before first looks writes none).
                var more = Stopwatch.StartNew();
                while (more.Elapsed < TimeSpan.FromSeconds(10)
                    && await DatabaseAsync(dataDirectory, "SELECT COUNT(*) FROM task_views WHERE view_key LIKE '%/first-look'") is not (long and > 0))
                {
                    await Task.Delay(100);
                }

                return;
            }

            await Task.Delay(100);
        }

        Console.WriteLine("  no default view was kept within a minute");
    }

    /// <summary>
    /// Deletes the default views kept in a stopped server's SQLite database, so that the next fresh process builds the
    /// tree from the uploads' digests instead of reading it.
    /// </summary>
    public static Task ForgetKeptViewsAsync(string dataDirectory) => DatabaseAsync(dataDirectory, "DELETE FROM task_views");

    /// <summary>One statement on the server's database; <c>null</c> when it fails (a build without that table).</summary>
    private static async Task<object?> DatabaseAsync(string dataDirectory, string sql)
    {
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(dataDirectory, "flamewright.db")};Pooling=False");
        await connection.OpenAsync();
        await using Microsoft.Data.Sqlite.SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        try
        {
            return await command.ExecuteScalarAsync();
        }
        catch (Microsoft.Data.Sqlite.SqliteException)
        {
            return null;
        }
    }
}
