using System.Globalization;

namespace Flamewright.Benchmarks.Server;

/// <summary>
/// A serve process's own view of its managed heap, sampled while it serves: how much of the resident memory that
/// the benchmarks read from outside (<see cref="MeasuredServer.PeakResidentBytes"/>) the GC heap is, and how often
/// the GC ran. Printed when the process stops.
/// </summary>
internal sealed class ManagedMemoryWatch : IDisposable
{
    private const double MiB = 1024 * 1024;

    private readonly Lock _lock = new();
    private readonly Timer _timer;
    private long _peakHeap, _peakCommitted;

    public ManagedMemoryWatch() => _timer = new Timer(_ => Sample(), null, 0, 250);

    private void Sample()
    {
        // Allocated now (live and not yet collected), and what the GC has committed from the OS.
        long heap = GC.GetTotalMemory(forceFullCollection: false);
        long committed = GC.GetGCMemoryInfo().TotalCommittedBytes;
        lock (_lock)
        {
            _peakHeap = Math.Max(_peakHeap, heap);
            _peakCommitted = Math.Max(_peakCommitted, committed);
        }
    }

    public string Summary()
    {
        Sample();
        GCMemoryInfo lastFull = GC.GetGCMemoryInfo(GCKind.FullBlocking);
        string summary;
        lock (_lock)
        {
            summary = string.Create(CultureInfo.InvariantCulture,
                $"managed heap: peak {_peakHeap / MiB:F0} MiB in use, peak {_peakCommitted / MiB:F0} MiB committed (sampled every 250 ms); " +
                $"after the last full GC {lastFull.HeapSizeBytes / MiB:F0} MiB; {GC.GetTotalAllocatedBytes() / MiB:N0} MiB allocated in all; " +
                $"collections gen0 {GC.CollectionCount(0)}, gen1 {GC.CollectionCount(1)}, gen2 {GC.CollectionCount(2)}; pauses {GC.GetTotalPauseDuration().TotalSeconds:F1} s in all; " +
                $"the collector may use {lastFull.TotalAvailableMemoryBytes / MiB:N0} MiB");
        }

        // What stays once nothing is in progress: caches, and anything that leaks.
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        return summary + string.Create(CultureInfo.InvariantCulture, $"; live once idle (forced full GC) {GC.GetTotalMemory(forceFullCollection: false) / MiB:F0} MiB");
    }

    public void Dispose() => _timer.Dispose();
}
