<!-- devstack's EVN archive: written into /var/gavo/inputs/evn by devstack/dachs.py, with seed.csv
     (one row per data product) and tiny stand-ins for the products. -->
<resource schema="evn">
  <meta name="title">EVN archive (devstack's synthetic catalogue)</meta>
  <meta name="description">Synthetic EVN experiments for development and tests: experiment codes,
    targets and their positions, observation dates and FITS-IDI products, generated relative to
    the day of seeding so that some are public and some still proprietary.</meta>
  <meta name="creationDate">2026-11-27T00:00:00</meta>
  <meta name="subject">Very long baseline interferometry</meta>
  <meta name="creator.name">jupyterlab-evn-submit devstack</meta>

  <table id="main" onDisk="True" adql="True">
    <mixin>//products#table</mixin>
    <mixin
      productType="'visibility'"
      calibLevel="1"
      collectionName="'EVN'"
      facilityName="'EVN'"
      instrumentName="'EVN'"
      obsId="obs_id"
      targetName="target_name"
      ra="ra"
      dec="dec"
      tMin="t_min"
      tMax="t_max"
      did="did"
      preview="NULL"
      >//obscore#publish</mixin>
    <column name="obs_id" type="text" ucd="meta.id" description="EVN experiment code"/>
    <column name="target_name" type="text" ucd="meta.id;src" description="Source observed"/>
    <column name="ra" type="double precision" unit="deg" ucd="pos.eq.ra;meta.main"
      description="Target RA (ICRS)"/>
    <column name="dec" type="double precision" unit="deg" ucd="pos.eq.dec;meta.main"
      description="Target Dec (ICRS)"/>
    <column name="t_min" type="double precision" unit="d" ucd="time.start;obs.exposure"
      description="Start of the observation (MJD)"/>
    <column name="t_max" type="double precision" unit="d" ucd="time.end;obs.exposure"
      description="End of the observation (MJD)"/>
    <column name="did" type="text" ucd="meta.ref.ivoid" description="Publisher DID"/>
  </table>

  <data id="import">
    <sources>seed.csv</sources>
    <csvGrammar>
      <rowfilter procDef="//products#define">
        <bind key="table">"\schema.main"</bind>
        <bind key="accref">"evn/data/"+@product</bind>
        <bind key="path">"evn/data/"+@product</bind>
        <bind key="fsize">int(@size)</bind>
        <bind key="mime">"application/fits"</bind>
        <bind key="preview">None</bind>
        <bind key="embargo">@embargo or None</bind>
      </rowfilter>
    </csvGrammar>
    <make table="main">
      <rowmaker idmaps="obs_id,target_name,ra,dec,t_min,t_max,did"/>
    </make>
  </data>
</resource>
