using Flamewright.Agent.Tasks;

namespace Flamewright.Agent.Targets;

/// <summary>What a collection produced: a profile, or the reason there is none.</summary>
public sealed record CollectedProfile(byte[]? Profile, string? Error)
{
    public static CollectedProfile Failed(string error) => new(null, error);

    public static CollectedProfile Of(byte[] profile) => new(profile, null);
}

/// <summary>
/// Where profiles come from. Go services' <c>net/http/pprof</c> today (<see cref="GoHttpPprofSource"/>); an
/// in-process .NET source can implement the same.
/// </summary>
public interface IProfileSource
{
    /// <summary>Runs <paramref name="task"/> (which may take its whole duration) and returns the gzip profile or why there is none.</summary>
    /// <param name="profilingTime">How long a cpu, block or mutex profile runs.</param>
    Task<CollectedProfile> CollectAsync(PprofCommand task, TimeSpan profilingTime, CancellationToken cancellationToken);
}
