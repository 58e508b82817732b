using System.Runtime.InteropServices;

namespace Flamewright.Server.Hosting;

/// <summary>
/// Bounds the C library's heap, which SQLite, zlib and the runtime's native parts allocate from (docs/deployment.md).
/// glibc gives busy threads heaps of their own (up to eight per core) and keeps what is freed in each for reuse: after
/// reads of large blobs on many threads, the load benchmark's server held 0.6 GiB more resident memory than its managed
/// heap explained, which two heaps took away (benchmarks/README.md). Process-wide; Linux with glibc only.
/// </summary>
internal static partial class NativeHeap
{
    /// <summary>glibc's <c>M_ARENA_MAX</c> parameter of <c>mallopt</c>.</summary>
    private const int ArenaMax = -8;

    /// <summary>
    /// Lets the C library create at most <paramref name="arenas"/> heaps from now on (0 leaves its default). Whether it
    /// took: false off Linux, on a C library without <c>mallopt</c> (musl) or when it refused.
    /// </summary>
    public static bool LimitArenas(int arenas)
    {
        if (arenas <= 0 || !OperatingSystem.IsLinux())
        {
            return false;
        }

        try
        {
            return MallOpt(ArenaMax, arenas) == 1;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return false;
        }
    }

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int MallOpt(int parameter, int value);
}
