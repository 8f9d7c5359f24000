using PythonHpc.Content;

namespace PythonHpc.Tests.Content;

public class SlugTests
{
    [Theory]
    [InlineData("Machine Learning", "machine-learning")]
    [InlineData("C#", "c-sharp")]
    [InlineData("C++", "c-plus-plus")]
    [InlineData("Träffar", "traffar")]
    [InlineData("Ærø Straße", "aero-strasse")]
    [InlineData("  Python  ", "python")]
    [InlineData("HPC/MPI & GPUs!", "hpc-mpi-gpus")]
    [InlineData(".NET", "net")]
    public void Names_become_url_safe_slugs(string name, string slug) => Assert.Equal(slug, Slug.From(name));

    [Fact]
    public void A_name_without_latin_letters_gets_a_stable_hash_slug()
    {
        var slug = Slug.From("機械学習");
        Assert.Matches("^x-[0-9a-f]{10}$", slug);
        Assert.Equal(slug, Slug.From("機械学習"));
        Assert.NotEqual(slug, Slug.From("深層学習"));
    }
}
