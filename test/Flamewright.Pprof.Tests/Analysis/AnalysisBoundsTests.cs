using Flamewright.Pprof.Analysis;
using Flamewright.Pprof.Model;

namespace Flamewright.Pprof.Tests.Analysis;

/// <summary>
/// An analysis stops when its caller cancels it, and its focus and ignore patterns stop at their time budget: a
/// server request whose client left, or whose pattern would match for minutes, holds no thread.
/// </summary>
public sealed class AnalysisBoundsTests
{
    private static Profile Profile() => Stacks.Single(Stacks.Cpu).Add("main;a;b", 10).Add("main;c", 5).Build();

    [Fact(Timeout = Spec.Timeout)]
    public Task A_cancelled_analysis_stops_with_OperationCanceledException_in_trees_tables_and_diffs() => Spec.Run(() =>
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        var options = new FlameOptions { Cancellation = cancelled.Token };
        var filtered = new FlameOptions { Cancellation = cancelled.Token, Focus = "main" };

        Assert.Throws<OperationCanceledException>(() => FlameTreeBuilder.Build(Profile(), options));
        Assert.Throws<OperationCanceledException>(() => TopTable.Build(Profile(), options));
        Assert.Throws<OperationCanceledException>(() => FlameDiff.Build([Profile()], [Profile()], options));
        Assert.Throws<OperationCanceledException>(() => FlameTreeBuilder.Build(Profile(), filtered));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Patterns_past_their_time_budget_end_the_analysis_with_a_message_that_says_so() => Spec.Run(() =>
    {
        var spent = new FlameOptions { Focus = "b$", MatchBudget = new MatchBudget(TimeSpan.Zero) };
        var shared = new MatchBudget(TimeSpan.FromSeconds(10));

        var refused = Assert.Throws<PprofFormatException>(() => FlameTreeBuilder.Build(Profile(), spent));
        long first = FlameTreeBuilder.Build(Profile(), spent with { MatchBudget = shared }).Total;
        TimeSpan afterOne = shared.Spent;
        long second = FlameTreeBuilder.Build(Profile(), spent with { MatchBudget = shared }).Total;

        Assert.Equal("focus: matching the regular expressions took more than 0 s for this request; use a simpler pattern", refused.Message);
        Assert.Equal((10, 10), (first, second));
        Assert.True(afterOne > TimeSpan.Zero && shared.Spent > afterOne, $"{afterOne} then {shared.Spent}: both analyses charge the shared budget");
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_pattern_that_backtracks_exponentially_elsewhere_runs_in_linear_time_here() => Spec.Run(() =>
    {
        ProfileBuilder builder = Stacks.Single(Stacks.Cpu);
        for (int i = 0; i < 200; i++)
        {
            builder.Add($"main;{new string('a', 64)}{i}", 1);
        }

        // On a backtracking engine, (a+)+$ against 64 a's and a digit takes 2^64 steps per name.
        FlameTree kept = FlameTreeBuilder.Build(builder.Build(), new FlameOptions { Focus = "(a+)+$", MatchBudget = new MatchBudget(TimeSpan.FromSeconds(10)) });

        Assert.Equal(0, kept.Total);
    });
}
