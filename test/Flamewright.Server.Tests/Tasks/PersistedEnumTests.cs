using Flamewright.Protocol.Pprof;
using Flamewright.Server.Tasks;

namespace Flamewright.Server.Tests.Tasks;

/// <summary>
/// Enums whose numbers or names are stored or sent on the wire: renumbering or renaming one silently corrupts
/// existing databases or breaks agents, so each value is pinned here. Change a line only with a migration.
/// </summary>
public sealed class PersistedEnumTests
{
    [Fact(Timeout = Spec.Timeout)]
    public Task Task_log_operations_are_stored_as_these_numbers() => Spec.Run(() =>
    {
        Assert.Equal(
            [("NOTIFIED", 0), ("EXECUTION_FINISHED", 1), ("PPROF_UPLOAD_FILE_TOO_LARGE_ERROR", 2), ("EXECUTION_TASK_ERROR", 3)],
            Enum.GetValues<TaskLogOperation>().Select(o => (o.ToString(), (int)o)));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Pprof_events_are_stored_by_these_names_and_numbered_as_SkyWalking_lists_them() => Spec.Run(() =>
    {
        Assert.Equal(
            [("CPU", 0), ("HEAP", 1), ("BLOCK", 2), ("MUTEX", 3), ("GOROUTINE", 4), ("THREADCREATE", 5), ("ALLOCS", 6)],
            Enum.GetValues<PprofEvent>().Select(e => (e.ToString(), (int)e)));
        Assert.Equal(
            ["cpu", "heap", "block", "mutex", "goroutine", "threadcreate", "allocs"],
            Enum.GetValues<PprofEvent>().Select(e => e.CommandName()));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Profiling_statuses_have_the_wire_numbers_of_the_pprof_protocol() => Spec.Run(() =>
    {
        Assert.Equal(
            [(PprofProfilingStatus.PprofProfilingSuccess, 0), (PprofProfilingStatus.PprofExecutionTaskError, 1), (PprofProfilingStatus.PprofTerminatedByOversize, 2)],
            Enum.GetValues<PprofProfilingStatus>().Select(s => (s, (int)s)));
    });
}
