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
/// Once the server is up, runs what the first analysis would (a small made-up profile through digest, tree, top table,
/// view and tree digest; the page's first GraphQL documents through the executer), so that the code is compiled before
/// a person waits for it. In the background, once, at low cost (tens of milliseconds of work); <see cref="ServerOptions.WarmUp"/>
/// turns it off.
/// </summary>
internal sealed partial class Warmup(IServiceProvider services, ServerOptions options, ILogger<Warmup> logger) : BackgroundService
{
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
            await GraphQLEndpoint.WarmUpAsync(services, stoppingToken).ConfigureAwait(false);
            TimeSpan took = System.Diagnostics.Stopwatch.GetElapsedTime(started);
            LogWarm(logger, took.TotalMilliseconds);
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

    [LoggerMessage(EventId = 901, Level = LogLevel.Information, Message = "Warmed up in {Milliseconds:F0} ms (WarmUp)")]
    private static partial void LogWarm(ILogger logger, double milliseconds);

    [LoggerMessage(EventId = 902, Level = LogLevel.Warning, Message = "Warming up failed (the server serves all the same): {Reason}")]
    private static partial void LogNotWarm(ILogger logger, LogText reason);
}
