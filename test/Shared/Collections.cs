namespace Flamewright.Tests.Shared;

/// <summary>
/// Tests that measure the whole process (managed memory, latency under load) run in this collection: xUnit runs it
/// after the others, with nothing beside it, so that another test's allocations and CPU do not blur the figures.
/// Compiled into every test project (test/Directory.Build.props), as xUnit reads collections from the test's own assembly.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RunsAlone
{
    public const string Name = "alone";
}

/// <summary>
/// The tests that feed hostile profiles through a door run alone, after the others: a bomb takes gigabytes of memory
/// and seconds of both cores, beside which other tests' timings fail (a several-nodes end-to-end test timed out).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HostileDoorsRunAlone
{
    public const string Name = "hostile profiles through a door, alone";
}
