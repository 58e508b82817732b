using System.Runtime.InteropServices;

namespace Flamewright.Server.Hosting;

/// <summary>
/// Bounds the C library's heap, which SQLite, zlib and the runtime's native parts allocate from (docs/deployment.md).
/// glibc gives busy threads heaps of their own (up to eight per core) and keeps what is freed in each for reuse: after
/// reads of large blobs on many threads, the load benchmark's server held 0.6 GiB more resident memory than its managed
/// heap explained, which two heaps took away (benchmarks/README.md). It also keeps large blocks out of those heaps:
/// glibc raises the size from which a block is mapped on its own to the largest one freed, after which freed copies of
/// large blobs stayed in the heaps. Process-wide; Linux with glibc only.
/// </summary>
internal static partial class NativeHeap
{
    /// <summary>glibc's <c>M_ARENA_MAX</c> parameter of <c>mallopt</c>.</summary>
    private const int ArenaMax = -8;

    /// <summary>glibc's <c>M_MMAP_THRESHOLD</c> parameter of <c>mallopt</c>.</summary>
    private const int MmapThreshold = -3;

    /// <summary>
    /// Lets the C library create at most <paramref name="arenas"/> heaps from now on (0 leaves its default). Whether it
    /// took: false off Linux, on a C library without <c>mallopt</c> (musl) or when it refused.
    /// </summary>
    public static bool LimitArenas(int arenas) => Set(ArenaMax, arenas);

    /// <summary>
    /// Serves every allocation of at least <paramref name="bytes"/> from memory mapped for it alone, which freeing gives
    /// back to the system, and stops glibc raising that threshold to the largest block freed (0 leaves its default).
    /// Whether it took, as <see cref="LimitArenas"/>.
    /// </summary>
    public static bool FixMapThreshold(int bytes) => Set(MmapThreshold, bytes);

    /// <summary><c>mallopt(parameter, value)</c> for a positive value, on Linux; whether glibc took it.</summary>
    private static bool Set(int parameter, int value)
    {
        if (value <= 0 || !OperatingSystem.IsLinux())
        {
            return false;
        }

        try
        {
            return MallOpt(parameter, value) == 1;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return false;
        }
    }

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int MallOpt(int parameter, int value);
}
