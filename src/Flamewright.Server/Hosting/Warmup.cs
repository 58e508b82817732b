using Flamewright.Pprof.Analysis;
using Flamewright.Pprof.Digest;
using Flamewright.Pprof.Model;
using Flamewright.Server.Configuration;
using Flamewright.Server.Query;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ValueType = Flamewright.Pprof.Model.ValueType;

namespace Flamewright.Server.Hosting;

/// <summary>
/// Once the server is up, runs what a person's first look would, so that the code is compiled before anyone waits for
/// it: a small made-up profile through digest, tree, top table, view and tree digest; the analysis page's first GraphQL
/// document through the executer and the serializer, for the task whose view was kept last (its first look is read, then
/// forgotten, so nothing of it stays cached) or for a task that does not exist; and the page's files and one query over
/// loopback HTTP. Once, while the start waits for it (<see cref="StartWait"/> at most); <see cref="ServerOptions.WarmUp"/> turns it off.
/// </summary>
internal sealed partial class Warmup(IServiceProvider services, ServerOptions options, ILogger<Warmup> logger) : BackgroundService
{
    /// <summary>How long a start waits for the warm-up before saying it listens: it is an extra, never a reason not to start.</summary>
    internal static readonly TimeSpan StartWait = TimeSpan.FromSeconds(10);

    private readonly TaskCompletionSource<Uri?> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// Tells the warm-up where the HTTP port answers this process (a loopback address when it listens on every
    /// interface; <c>null</c> when unknown), and waits up to <see cref="StartWait"/> for it to finish.
    /// </summary>
    internal async Task ListeningAsync(Uri? self, CancellationToken cancellationToken)
    {
        _listening.TrySetResult(self);
        if (options.WarmUp)
        {
            try
            {
                await _done.Task.WaitAsync(StartWait, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // Still warming up: the server serves all the same.
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Asked to stop while warming up (/healthz already answers): the start goes on to its clean stop.
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.WarmUp)
        {
            return;
        }

        await Task.Yield();
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            RunEngine();
            string? taskId = await GraphQLEndpoint.WarmUpAsync(services, stoppingToken).ConfigureAwait(false);
            Uri? self = await _listening.Task.WaitAsync(TimeSpan.FromSeconds(30), stoppingToken).ConfigureAwait(false);
            if (self is not null)
            {
                await AskOverHttpAsync(self, stoppingToken).ConfigureAwait(false);
            }

            TimeSpan took = System.Diagnostics.Stopwatch.GetElapsedTime(started);
            LogWarm(logger, took.TotalMilliseconds, taskId ?? "none (no view kept yet)");
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
#pragma warning disable CA1031 // Warming up is an extra: whatever fails, the server serves as it would have.
        catch (Exception e)
#pragma warning restore CA1031
        {
            LogNotWarm(logger, new LogText(e.Message));
        }
        finally
        {
            _done.TrySetResult();
        }
    }

    /// <summary>The page's files and a small query, as a browser asks for them: the HTTP path's code compiled.</summary>
    private async Task AskOverHttpAsync(Uri self, CancellationToken cancellationToken)
    {
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = self, Timeout = StartWait };
        string token = options.ApiToken.Length > 0 ? options.ApiToken : options.ReadOnlyApiToken;
        if (token.Length > 0)
        {
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        }

        foreach (string path in Flamewright.Server.Web.WebUi.Paths)
        {
            using HttpResponseMessage file = await http.GetAsync(path, cancellationToken).ConfigureAwait(false);
            await file.Content.CopyToAsync(Stream.Null, cancellationToken).ConfigureAwait(false);
        }

        using var query = new StringContent("""{"query":"{ getTimeInfo { currentTimestamp } }"}""", System.Text.Encoding.UTF8, "application/json");
        using HttpResponseMessage answer = await http.PostAsync(GraphQLEndpoint.Path, query, cancellationToken).ConfigureAwait(false);
        await answer.Content.CopyToAsync(Stream.Null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Two small profiles of a few hundred stacks through every step of a cold look at a task.</summary>
    private static void RunEngine()
    {
        Profile[] profiles = [.. Enumerable.Range(0, 2).Select(MadeUp).Select(ProfileDigest.Write).Select(d => ProfileDigest.Read(d))];
        FlameTree tree = TreeDigest.Read(TreeDigest.Write(FlameTreeBuilder.Build(profiles, new FlameOptions { SampleType = "cpu" })));
        _ = TopTable.Build(tree);
        _ = FlameView.Build(tree, [], 1000, search: new System.Text.RegularExpressions.Regex("^main", System.Text.RegularExpressions.RegexOptions.NonBacktracking));
    }

    private static Profile MadeUp(int seed)
    {
        var random = new Random(seed);
        var builder = new ProfileBuilder([new ValueType("samples", "count"), new ValueType("cpu", "nanoseconds")]);
        int[] locations = [.. Enumerable.Range(0, 50).Select(i => builder.AddLocation([new Line(builder.AddFunction($"main.f{i}", $"main.f{i}", "main.go", i), 10 + i, 0)]))];
        Label[] labels = [new Label("handler", "/warm-up", 0, null)];
        for (int s = 0; s < 300; s++)
        {
            int[] stack = [.. Enumerable.Range(0, random.Next(3, 20)).Select(_ => locations[random.Next(locations.Length)])];
            long count = random.Next(1, 10);
            builder.AddSample(stack, [count, count * 10_000_000], s % 3 == 0 ? labels : []);
        }

        return builder.Build();
    }

    [LoggerMessage(EventId = 901, Level = LogLevel.Information, Message = "Warmed up in {Milliseconds:F0} ms on the first look of task {TaskId} (WarmUp)")]
    private static partial void LogWarm(ILogger logger, double milliseconds, string taskId);

    [LoggerMessage(EventId = 902, Level = LogLevel.Warning, Message = "Warming up failed (the server serves all the same): {Reason}")]
    private static partial void LogNotWarm(ILogger logger, LogText reason);
}
