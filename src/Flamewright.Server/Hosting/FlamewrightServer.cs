using System.Net;
using Flamewright.Server.Analysis;
using Flamewright.Server.Configuration;
using Flamewright.Server.Query;
using Flamewright.Server.Receiver;
using Flamewright.Server.Storage;
using Flamewright.Server.Storage.Postgres;
using Flamewright.Server.Storage.Sqlite;
using Flamewright.Server.Tasks;
using Flamewright.Server.Web;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Flamewright.Server.Hosting;

/// <summary>
/// <c>flamewright server</c>: Kestrel with the agent gRPC port (HTTP/2 cleartext) and the HTTP port (GraphQL,
/// REST, health), over one store. Build it with <see cref="Create"/>, then <see cref="StartAsync"/>.
/// </summary>
public sealed partial class FlamewrightServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ListenOptions[] _listeners;

    private FlamewrightServer(WebApplication app, ServerOptions options, ListenOptions[] listeners)
    {
        _app = app;
        Options = options;
        _listeners = listeners;
    }

    public ServerOptions Options { get; }

    public IServiceProvider Services => _app.Services;

    /// <summary>The agent port actually bound (differs from the setting when that is 0).</summary>
    public int GrpcPort => _listeners[0].IPEndPoint?.Port ?? Options.GrpcPort;

    /// <summary>The HTTP port actually bound.</summary>
    public int HttpPort => _listeners[1].IPEndPoint?.Port ?? Options.HttpPort;

    /// <summary>Where agents connect, e.g. <c>http://127.0.0.1:11800</c>.</summary>
    public Uri GrpcAddress => new($"http://{UrlHost(Options.GrpcHost)}:{GrpcPort}");

    /// <summary>Where people and clients connect, e.g. <c>http://127.0.0.1:12800</c>.</summary>
    public Uri HttpAddress => new($"http://{UrlHost(Options.HttpHost)}:{HttpPort}");

    /// <summary>Composes the server from settings.</summary>
    /// <param name="configureLogging">Replaces the default console logging (tests capture logs here).</param>
    /// <param name="time">The clock; tests move it.</param>
    public static FlamewrightServer Create(ServerSettings settings, Action<ILoggingBuilder>? configureLogging = null, TimeProvider? time = null)
    {
        ServerOptions options = settings.Options;
        NativeHeap.LimitArenas(options.NativeHeapArenas);
        NativeHeap.FixMapThreshold(options.NativeHeapMapThresholdKilobytes * 1024);
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ContentRootPath = Directory.GetCurrentDirectory(),
            EnvironmentName = Environments.Production,
        });
        builder.Configuration.AddConfiguration(settings.Configuration);
        builder.Logging.ClearProviders();
        if (configureLogging is null)
        {
            builder.Logging.AddSimpleConsole(console =>
            {
                console.SingleLine = true;
                console.TimestampFormat = "HH:mm:ss ";
            });
            builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
            // The server's own start line says where it listens; the host's lines would repeat it.
            builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);
            builder.Logging.AddFilter("Grpc.AspNetCore", LogLevel.Warning);
        }
        else
        {
            configureLogging(builder.Logging);
        }

        var listeners = new ListenOptions[2];
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(Address(options.GrpcHost, nameof(options.GrpcHost)), options.GrpcPort, listen =>
            {
                // Agents speak HTTP/2 without TLS (h2c): on a cleartext port Kestrel needs to be told.
                listen.Protocols = HttpProtocols.Http2;
                listeners[0] = listen;
            });
            kestrel.Listen(Address(options.HttpHost, nameof(options.HttpHost)), options.HttpPort, listen =>
            {
                // Browsers and clients speak HTTP/1.1 here; HTTP/2 would need TLS to be negotiated.
                listen.Protocols = HttpProtocols.Http1;
                listeners[1] = listen;
            });
        });

        builder.Services.AddFlamewrightServer(options, time ?? TimeProvider.System);
        WebApplication app = builder.Build();
        app.MapFlamewrightServer(options, () => listeners[0].IPEndPoint?.Port ?? options.GrpcPort);
        return new FlamewrightServer(app, options, listeners);
    }

    /// <summary>Migrates the store, clears temporary uploads a killed process left behind, and starts listening.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (Options.UsesPostgres && !Options.MemoryParser)
        {
            // Uploads go through temporary files here; with SQLite the store prepares the directory itself.
            DataDirectory.Prepare(Options.DataDir);
        }

        await MigrateAsync(cancellationToken).ConfigureAwait(false);
        await Services.GetRequiredService<Dashboards>().SeedAsync(cancellationToken).ConfigureAwait(false);
        string temporary = Services.GetRequiredService<UploadReceiver>().TemporaryDirectory;
        if (Directory.Exists(temporary))
        {
            foreach (string leftover in Directory.EnumerateFiles(temporary, "*.upload"))
            {
                File.Delete(leftover);
            }
        }

        await _app.StartAsync(cancellationToken).ConfigureAwait(false);
        // Building the GraphQL schema takes a few hundred ms: done now, beside the first agent calls, rather than
        // in the first user's query. A failure here surfaces again, with its message, on that first query.
        _ = Task.Run(() => Services.GetRequiredService<GraphQL.Types.ISchema>(), CancellationToken.None);
        await Services.GetRequiredService<Warmup>().ListeningAsync(SelfAddress(_listeners[1].IPEndPoint), cancellationToken).ConfigureAwait(false);
        string data = Options.UsesPostgres ? Services.GetRequiredService<SqlProfilingStore>().Location : Path.GetFullPath(Options.DataDir);
        LogListening(_app.Logger, GrpcAddress, HttpAddress, data);
    }

    /// <summary>Where this process reaches its own HTTP port: the bound address, or loopback when it listens on every interface.</summary>
    private static Uri? SelfAddress(System.Net.IPEndPoint? bound)
    {
        if (bound is null)
        {
            return null;
        }

        System.Net.IPAddress address = bound.Address.Equals(System.Net.IPAddress.Any) ? System.Net.IPAddress.Loopback
            : bound.Address.Equals(System.Net.IPAddress.IPv6Any) ? System.Net.IPAddress.IPv6Loopback
            : bound.Address;
        return new Uri($"http://{new System.Net.IPEndPoint(address, bound.Port)}/");
    }

    /// <summary>
    /// Brings the schema up to date. A database that cannot be reached yet (PostgreSQL starting beside the
    /// nodes) is retried for <see cref="ServerOptions.StorageStartTimeoutSeconds"/>, saying so; anything else
    /// stops the start with one line.
    /// </summary>
    private async Task MigrateAsync(CancellationToken cancellationToken)
    {
        SqlProfilingStore store = Services.GetRequiredService<SqlProfilingStore>();
        TimeProvider clock = TimeProvider.System;
        long deadline = clock.GetTimestamp() + (long)(Options.StorageStartTimeoutSeconds * (double)clock.TimestampFrequency);
        while (true)
        {
            try
            {
                await store.MigrateAsync(cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (System.Data.Common.DbException e) when (e.IsTransient && clock.GetTimestamp() < deadline)
            {
                LogWaitingForStorage(_app.Logger, store.Location, OneLine(e));
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is System.Data.Common.DbException or InvalidOperationException or TimeoutException)
            {
                throw new SettingsException($"cannot use the database ({store.Location}): {OneLine(e)}", e);
            }
        }
    }

    private static string OneLine(Exception e) =>
        (e.InnerException is { } inner && !e.Message.Contains(inner.Message, StringComparison.Ordinal) ? $"{e.Message} ({inner.Message})" : e.Message)
        .ReplaceLineEndings(" ");

    /// <summary>
    /// For a process that runs this server alone (<c>flamewright server</c>): limits the process's managed heap to
    /// <see cref="ServerOptions.ManagedHeapLimitMegabytes"/>, or keeps the runtime's lower limit, and says which.
    /// </summary>
    public void LimitManagedHeap()
    {
        const long MiB = 1024 * 1024;
        try
        {
            (bool set, long bytes) = ManagedHeap.Limit(Options.ManagedHeapLimitMegabytes);
            if (set)
            {
                LogHeapLimited(_app.Logger, bytes / MiB);
            }
            else if (bytes > 0)
            {
                LogHeapLimitKept(_app.Logger, bytes / MiB, Options.ManagedHeapLimitMegabytes);
            }
        }
        catch (InvalidOperationException e)
        {
            LogHeapNotLimited(_app.Logger, Options.ManagedHeapLimitMegabytes, OneLine(e));
        }
    }

    /// <summary>Runs until the process is asked to stop (Ctrl+C, SIGTERM) or <paramref name="cancellationToken"/> fires.</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken = default) => _app.WaitForShutdownAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken = default) => _app.StopAsync(cancellationToken);

    public async ValueTask DisposeAsync() => await _app.DisposeAsync().ConfigureAwait(false);

    private static IPAddress Address(string host, string setting)
    {
        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return IPAddress.Loopback;
        }

        return IPAddress.TryParse(host, out IPAddress? address)
            ? address
            : throw new SettingsException($"{setting} '{host}' is not an IP address (use 0.0.0.0 for every interface)");
    }

    private static string UrlHost(string host) => host switch
    {
        "0.0.0.0" => "127.0.0.1",
        "::" => "[::1]",
        _ when host.Contains(':', StringComparison.Ordinal) => $"[{host}]",
        _ => host,
    };

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Waiting for the database ({Location}): {Reason}")]
    private static partial void LogWaitingForStorage(ILogger logger, string location, string reason);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "Managed heap limited to {Megabytes} MiB (ManagedHeapLimitMegabytes)")]
    private static partial void LogHeapLimited(ILogger logger, long megabytes);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "Managed heap left to the runtime, which lets it use {Megabytes} MiB (a container's or the machine's memory, or DOTNET_GCHeapHardLimit): less than ManagedHeapLimitMegabytes ({Setting})")]
    private static partial void LogHeapLimitKept(ILogger logger, long megabytes, int setting);

    [LoggerMessage(EventId = 5, Level = LogLevel.Warning, Message = "Managed heap not limited to {Megabytes} MiB (ManagedHeapLimitMegabytes): {Reason}")]
    private static partial void LogHeapNotLimited(ILogger logger, int megabytes, string reason);

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Flamewright listening: agents (gRPC) on {Grpc}, GraphQL and REST on {Http}, data in {Data}. Ctrl+C stops.")]
    private static partial void LogListening(ILogger logger, Uri grpc, Uri http, string data);
}

/// <summary>The server's services and endpoints, composed by <see cref="FlamewrightServer"/>.</summary>
public static class FlamewrightServerExtensions
{
    internal static IServiceCollection AddFlamewrightServer(this IServiceCollection services, ServerOptions options, TimeProvider time)
    {
        services.AddSingleton(options);
        services.AddSingleton(time);
        services.AddSingleton<SqlProfilingStore>(_ => options.UsesPostgres
            ? new PostgresProfilingStore(PostgresConnection.Build(options))
            : new SqliteProfilingStore(options.DataDir));
        services.AddSingleton<IProfilingStore>(s => s.GetRequiredService<SqlProfilingStore>());
        services.AddSingleton<TaskService>();
        services.AddSingleton<Dashboards>();
        services.AddSingleton<UploadReceiver>();
        services.AddSingleton<AnalysisService>();
        services.AddHostedService<RetentionService>();
        services.AddSingleton<Warmup>();
        services.AddHostedService(provider => provider.GetRequiredService<Warmup>());
        services.AddSingleton<AgentTokenInterceptor>();
        services.AddGrpc(grpc =>
        {
            grpc.Interceptors.Add<AgentTokenInterceptor>();
            // The Go agent sends 1 MiB chunks; the default 4 MiB leaves room for other agents' larger chunks.
            grpc.MaxReceiveMessageSize = options.MaxAgentMessageBytes;
        });
        services.AddGraphQLEndpoint();
        return services;
    }

    internal static WebApplication MapFlamewrightServer(this WebApplication app, ServerOptions options, Func<int> agentPort)
    {
        app.UsePortRoles(agentPort);
        app.UseSiteChecks(options);
        app.MapGrpcService<ManagementReceiver>();
        if (options.PprofReceiverEnabled)
        {
            app.MapGrpcService<PprofTaskReceiver>();
        }

        app.UseApiTokens(options);
        app.MapGraphQLEndpoint();
        app.MapApiAccess();
        app.MapRestDownloads();
        app.MapHealth();
        app.MapWebUi(tokenAsked: options.ApiToken.Length > 0 || options.ReadOnlyApiToken.Length > 0);
        return app;
    }
}
