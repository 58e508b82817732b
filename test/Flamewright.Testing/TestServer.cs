using Flamewright.Server.Configuration;
using Flamewright.Server.Hosting;
using Flamewright.Server.Receiver;
using Flamewright.Server.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Flamewright.Testing;

/// <summary>
/// A real <c>flamewright server</c> in this process, on free loopback ports, with its own data directory and a
/// clock the test controls. Disposing stops it and, unless kept for a restart, deletes the data directory.
/// Unexpected error logs fail the test on dispose.
/// </summary>
internal sealed class TestServer : IAsyncDisposable
{
    private bool _ownsDataDir;

    private TestServer(FlamewrightServer server, string dataDir, ManualClock clock, CapturedLogs logs)
    {
        Server = server;
        DataDir = dataDir;
        Clock = clock;
        Logs = logs;
    }

    public FlamewrightServer Server { get; }

    public string DataDir { get; }

    public ManualClock Clock { get; }

    public CapturedLogs Logs { get; }

    /// <summary>Set when a test provokes server errors on purpose.</summary>
    public bool ErrorsExpected { get; set; }

    public Uri GrpcAddress => Server.GrpcAddress;

    public Uri HttpAddress => Server.HttpAddress;

    /// <summary>Starts a server; <paramref name="settings"/> are setting name → value, as flags would give them.</summary>
    public static async Task<TestServer> StartAsync(
        IReadOnlyDictionary<string, string>? settings = null, string? dataDir = null, ManualClock? clock = null, IDictionary<string, string>? environment = null)
    {
        bool owns = dataDir is null;
        dataDir ??= Path.Combine(Path.GetTempPath(), "flamewright-test-" + Guid.NewGuid().ToString("N"));
        var flags = new Dictionary<string, (string, string)>(StringComparer.OrdinalIgnoreCase)
        {
            [nameof(ServerOptions.GrpcPort)] = ("0", "test"),
            [nameof(ServerOptions.HttpPort)] = ("0", "test"),
            [nameof(ServerOptions.DataDir)] = (dataDir, "test"),
            // Hundreds of servers start in these tests: none compiles ahead what it may never run (WarmupTests checks it).
            [nameof(ServerOptions.WarmUp)] = ("false", "test"),
        };
        foreach ((string name, string value) in settings ?? new Dictionary<string, string>())
        {
            flags[name] = (value, "test");
        }

        clock ??= new ManualClock();
        var logs = new CapturedLogs();
        ServerSettings loaded = ServerSettings.Load(flags, null, new System.Collections.Hashtable(new Dictionary<string, string>(environment ?? new Dictionary<string, string>())));
        FlamewrightServer server = FlamewrightServer.Create(loaded, logging => logging.AddProvider(logs).SetMinimumLevel(LogLevel.Information), clock);
        await server.StartAsync();
        return new TestServer(server, dataDir, clock, logs) { _ownsDataDir = owns };
    }

    /// <summary>Stops this server and starts a new one on the same data directory (and clock).</summary>
    public async Task<TestServer> RestartAsync(IReadOnlyDictionary<string, string>? settings = null)
    {
        _ownsDataDir = false;
        await DisposeAsync();
        TestServer restarted = await StartAsync(settings, DataDir, Clock);
        restarted._ownsDataDir = true;
        return restarted;
    }

    /// <summary>
    /// Waits for the server's "Upload abandoned" log (UploadReceiver, event 203): it is written once a stream the
    /// agent dropped has been cleaned up, which the agent itself cannot see.
    /// </summary>
    public Task UploadAbandonedAsync() => Logs.WaitForAsync("Flamewright.Server.Receiver.UploadReceiver", 203, TimeSpan.FromSeconds(10));

    /// <summary>The receiver's own accounting of the collect streams in progress: open streams, receiving uploads, buffered bytes.</summary>
    public UploadLoad UploadLoad => Server.Services.GetRequiredService<UploadReceiver>().Load;

    /// <summary>Waits until no collect stream is open and no upload holds a slot or a byte: the server let go of everything.</summary>
    public Task AllUploadsReleasedAsync(TimeSpan? timeout = null) =>
        Eventually.HoldsAsync(() => UploadLoad is { Streams: 0, Receiving: 0, BufferedBytes: 0 },
            "every collect stream is over and holds no slot and no byte", timeout);

    /// <summary>One pass of the server's own retention service, as its timer runs it; returns the number of tasks removed.</summary>
    public Task<int> SweepExpiredAsync() =>
        Server.Services.GetServices<IHostedService>().OfType<RetentionService>().Single().SweepAsync(CancellationToken.None);

    /// <summary>
    /// Runs one SQL statement on the server's SQLite database directly, behind its back (<c>@p</c> is
    /// <paramref name="parameter"/>), and returns the first column of the first row, <c>null</c> for none or NULL.
    /// </summary>
    public async Task<object?> DatabaseAsync(string sql, object? parameter = null)
    {
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection(
            $"Data Source={Path.Combine(DataDir, Flamewright.Server.Storage.Sqlite.SqliteProfilingStore.FileName)};Pooling=False");
        await connection.OpenAsync();
        await using Microsoft.Data.Sqlite.SqliteCommand command = connection.CreateCommand();
        command.CommandText = sql;
        if (parameter is not null)
        {
            command.Parameters.AddWithValue("@p", parameter);
        }

        object? result = await command.ExecuteScalarAsync();
        return result is DBNull ? null : result;
    }

    public GoLikeAgent Agent(string service, string instance, string? token = null) => new(GrpcAddress, service, instance, token);

    public GraphQLClient GraphQL() => new(HttpAddress);

    public async ValueTask DisposeAsync()
    {
        await Server.StopAsync();
        await Server.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (_ownsDataDir && Directory.Exists(DataDir))
        {
            Directory.Delete(DataDir, recursive: true);
        }

        if (!ErrorsExpected)
        {
            string[] errors = [.. Logs.Errors];
            Expect.That(errors.Length == 0, "the server logged errors:\n" + string.Join("\n", errors));
        }
    }
}
