using System.Diagnostics;

namespace Flamewright.Pprof.Analysis;

/// <summary>
/// Time that focus and ignore patterns may spend matching names, shared by every analysis given the same budget: a
/// server gives one to each request, so that a request asking for several analyses (a diff has two sides, a GraphQL
/// document several fields) still gets the limit once. Safe to share between analyses running at once.
/// </summary>
public sealed class MatchBudget
{
    private readonly long _limitTicks;
    private long _spentTicks;

    /// <param name="limit">The time all matching together may take.</param>
    public MatchBudget(TimeSpan limit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, TimeSpan.Zero);
        Limit = limit;
        _limitTicks = (long)(limit.TotalSeconds * Stopwatch.Frequency);
    }

    public TimeSpan Limit { get; }

    /// <summary>Time spent matching so far.</summary>
    public TimeSpan Spent => TimeSpan.FromSeconds(Interlocked.Read(ref _spentTicks) / (double)Stopwatch.Frequency);

    /// <summary>Whether matching has taken the whole budget (a budget of zero is spent from the start).</summary>
    internal bool IsSpent => _limitTicks == 0 || Interlocked.Read(ref _spentTicks) > _limitTicks;

    internal void Charge(long stopwatchTicks) => Interlocked.Add(ref _spentTicks, stopwatchTicks);
}
