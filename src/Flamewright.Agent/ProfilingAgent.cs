using Flamewright.Agent.Protocol;
using Flamewright.Agent.Targets;
using Flamewright.Agent.Tasks;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace Flamewright.Agent;

/// <summary>
/// <c>flamewright agent</c>: registers an instance, keeps it alive, polls for tasks as the Go agent does
/// (<c>lastCommandTime</c>, one task per poll) and runs each task against a profile source. Keeps running
/// through server restarts and target outages: failed calls back off and move to the next server.
/// </summary>
public sealed partial class ProfilingAgent : IDisposable
{
    private readonly AgentOptions _options;
    private readonly ILogger _logger;
    private readonly AgentClient _client;
    private readonly TaskRunner _runner;
    private readonly HttpClient? _ownedHttp;
    private readonly List<Task> _running = [];
    private volatile bool _registered;
    private long _lastCommandTime;

    public ProfilingAgent(AgentOptions options, ILoggerFactory loggers, IProfileSource? source = null)
    {
        _options = options;
        _logger = loggers.CreateLogger("Flamewright.Agent");
        _client = new AgentClient(options, _logger);
        _client.FailedOver += () => _registered = false;
        if (source is null)
        {
            _ownedHttp = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
            source = new GoHttpPprofSource(_ownedHttp, options);
        }

        _runner = new TaskRunner(_client, source, options, _logger);
    }

    /// <summary>The <c>CreateTime</c> of the last task taken.</summary>
    public long LastCommandTime => Interlocked.Read(ref _lastCommandTime);

    /// <summary>Runs until <paramref name="cancellationToken"/> fires, then waits for running tasks to deliver.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        string servers = string.Join(",", _options.Servers);
        LogStarting(_logger, _options.Service, _options.Instance, servers, _options.Target);
        Task keepAlive = KeepAliveLoopAsync(cancellationToken);
        TimeSpan backoff = _options.MinBackoff;
        while (!cancellationToken.IsCancellationRequested)
        {
            TimeSpan next = _options.PollInterval;
            try
            {
                await EnsureRegisteredAsync(cancellationToken).ConfigureAwait(false);
                PprofCommand? task = await _client.PollAsync(LastCommandTime, cancellationToken).ConfigureAwait(false);
                backoff = _options.MinBackoff;
                if (task is not null)
                {
                    Interlocked.Exchange(ref _lastCommandTime, task.CreateTime);
                    lock (_running)
                    {
                        _running.RemoveAll(t => t.IsCompleted);
                        _running.Add(Task.Run(() => _runner.RunAsync(task, cancellationToken), CancellationToken.None));
                    }

                    // One task per poll, as the Go agent: ask again at once, in case more are waiting.
                    next = TimeSpan.Zero;
                }
            }
            catch (RpcException) when (cancellationToken.IsCancellationRequested)
            {
                // Stopped while a call was in flight: gRPC reports the cancelled call as CANCELLED.
                break;
            }
            catch (RpcException e)
            {
                LogPollFailed(_logger, _client.CurrentServer, e.StatusCode.ToString(), e.Status.Detail);
                next = backoff < _options.PollInterval ? backoff : _options.PollInterval;
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, _options.MaxBackoff.Ticks));
            }

            try
            {
                await Task.Delay(next, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        await keepAlive.ConfigureAwait(false);
        Task[] running;
        lock (_running)
        {
            running = [.. _running];
        }

        await Task.WhenAll(running.Select(t => t.ContinueWith(_ => { }, TaskScheduler.Default))).ConfigureAwait(false);
        LogStopped(_logger);
    }

    private async Task KeepAliveLoopAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(_options.KeepAliveInterval, cancellationToken).ConfigureAwait(false);
                await EnsureRegisteredAsync(cancellationToken).ConfigureAwait(false);
                await _client.KeepAliveAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (RpcException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (RpcException)
            {
                // Logged by the client; the next round tries the next server.
            }
        }
    }

    private async Task EnsureRegisteredAsync(CancellationToken cancellationToken)
    {
        if (_registered)
        {
            return;
        }

        await _client.RegisterAsync(Properties(), cancellationToken).ConfigureAwait(false);
        _registered = true;
        LogRegistered(_logger, _client.CurrentServer);
    }

    private List<KeyValuePair<string, string>> Properties() =>
    [
        KeyValuePair.Create("language", "go"),
        KeyValuePair.Create("hostname", Environment.MachineName),
        KeyValuePair.Create("ipv4", string.Join(",", Addresses())),
        KeyValuePair.Create("OS Name", Environment.OSVersion.Platform == PlatformID.Unix ? "linux" : Environment.OSVersion.Platform.ToString().ToLowerInvariant()),
        KeyValuePair.Create("pprof target", _options.Target.ToString()),
        KeyValuePair.Create("agent", "flamewright agent (sidecar)"),
    ];

    /// <summary>The host's IPv4 addresses other than loopback, as the Go agent reports them.</summary>
    private static List<string> Addresses()
    {
        try
        {
            return System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
                .Where(n => n.OperationalStatus == System.Net.NetworkInformation.OperationalStatus.Up)
                .SelectMany(n => n.GetIPProperties().UnicastAddresses)
                .Select(a => a.Address)
                .Where(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && !System.Net.IPAddress.IsLoopback(a))
                .Select(a => a.ToString())
                .ToList();
        }
        catch (System.Net.NetworkInformation.NetworkInformationException)
        {
            return [];
        }
    }

    public void Dispose()
    {
        _runner.Dispose();
        _client.Dispose();
        _ownedHttp?.Dispose();
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Agent for {Service}/{Instance}: servers {Servers}, target {Target}")]
    private static partial void LogStarting(ILogger logger, string service, string instance, string servers, Uri target);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Registered with {Server}")]
    private static partial void LogRegistered(ILogger logger, string server);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "Poll through {Server} failed ({Code}): {Reason}; retrying")]
    private static partial void LogPollFailed(ILogger logger, string server, string code, string reason);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "Agent stopped")]
    private static partial void LogStopped(ILogger logger);
}
