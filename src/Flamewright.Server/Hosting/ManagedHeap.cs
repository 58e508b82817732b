namespace Flamewright.Server.Hosting;

/// <summary>
/// Bounds the runtime's managed heap for a process that runs one server (docs/deployment.md, "Memory"). On a machine
/// with plenty of memory the collector feels no pressure and keeps what it freed: under the load benchmark a server
/// with about 0.5 GiB of live objects kept a heap of 1.5 GiB (benchmarks/README.md). With a limit it collects, compacts
/// and gives memory back as its heap nears the limit. Process-wide, so tests that host servers inside their own
/// process leave it alone.
/// </summary>
internal static class ManagedHeap
{
    private const long Megabyte = 1024 * 1024;

    /// <summary>
    /// Limits the managed heap to <paramref name="megabytes"/> MiB unless the memory the collector may already use is
    /// less (a container's memory limit, <c>DOTNET_GCHeapHardLimit</c>, a small machine): it never raises a limit.
    /// </summary>
    /// <returns>
    /// Whether the limit was set, and the memory the collector may use afterwards in bytes; (false, 0) for
    /// <paramref name="megabytes"/> 0, which leaves the runtime's own.
    /// </returns>
    /// <exception cref="InvalidOperationException">The heap already holds more than the limit (the runtime refuses it).</exception>
    public static (bool Set, long Bytes) Limit(int megabytes)
    {
        if (megabytes <= 0)
        {
            return (false, 0);
        }

        long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        long wanted = megabytes * Megabyte;
        if (available > 0 && wanted >= available)
        {
            return (false, available);
        }

        AppContext.SetData("GCHeapHardLimit", (ulong)wanted);
        GC.RefreshMemoryLimit();
        return (true, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes);
    }
}
