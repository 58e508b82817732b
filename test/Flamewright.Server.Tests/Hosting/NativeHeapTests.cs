using Flamewright.Server.Hosting;

namespace Flamewright.Server.Tests.Hosting;

/// <summary>The C library's heaps are bounded, and its large blocks given back, on Linux with glibc (the machines the server is built for), and left alone when told.</summary>
public sealed class NativeHeapTests
{
    [Fact(Timeout = Spec.Timeout)]
    public Task On_Linux_glibc_takes_the_bound_on_its_heaps_and_0_leaves_them_alone() => Spec.Run(() =>
    {
        Assert.Equal(OperatingSystem.IsLinux(), NativeHeap.LimitArenas(2));
        Assert.False(NativeHeap.LimitArenas(0));
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task On_Linux_glibc_takes_a_fixed_mapping_threshold_and_0_leaves_it_alone() => Spec.Run(() =>
    {
        Assert.Equal(OperatingSystem.IsLinux(), NativeHeap.FixMapThreshold(32 * 1024 * 1024));
        Assert.False(NativeHeap.FixMapThreshold(0));
        // Last, the server's default, which every server of this test process sets anyway.
        Assert.Equal(OperatingSystem.IsLinux(), NativeHeap.FixMapThreshold(1024 * 1024));
    });
}
