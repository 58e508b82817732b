using Flamewright.Server.Hosting;

namespace Flamewright.Server.Tests.Hosting;

/// <summary>The C library's heaps are bounded on Linux with glibc (the machines the server is built for), and left alone when told.</summary>
public sealed class NativeHeapTests
{
    [Fact(Timeout = Spec.Timeout)]
    public Task On_Linux_glibc_takes_the_bound_on_its_heaps_and_0_leaves_them_alone() => Spec.Run(() =>
    {
        Assert.Equal(OperatingSystem.IsLinux(), NativeHeap.LimitArenas(2));
        Assert.False(NativeHeap.LimitArenas(0));
    });
}
