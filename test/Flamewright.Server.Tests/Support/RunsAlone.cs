namespace Flamewright.Server.Tests.Support;

/// <summary>
/// Tests that measure the whole process (managed memory, latency under load) run in this collection: xUnit runs it
/// after the others, with nothing beside it, so that another test's allocations and CPU do not blur the figures.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RunsAlone
{
    public const string Name = "alone";
}
