import zipfile, numpy as np, pandas as pd, time
from xml.sax.saxutils import escape

CT = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
 '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
 '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
 '<Default Extension="xml" ContentType="application/xml"/>'
 '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
 '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
 '</Types>')
RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
 '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
 '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
 '</Relationships>')
WB = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
 '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
 '<sheets><sheet name="{name}" sheetId="1" r:id="rId1"/></sheets></workbook>')
WBRELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
 '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
 '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
 '</Relationships>')

def cells(col: pd.Series, numeric: bool) -> pd.Series:
    s = col.astype("string")
    if numeric:
        out = "<c><v>" + s + "</v></c>"
    else:
        out = '<c t="inlineStr"><is><t>' + s.str.replace("&","&amp;").str.replace("<","&lt;") + "</t></is></c>"
    return out.fillna("<c/>")

def write(path, df, numeric_cols):
    parts = [cells(df[c], c in numeric_cols) for c in df.columns]
    body = parts[0].str.cat(parts[1:]) if len(parts)>1 else parts[0]
    rows = "<row>" + body + "</row>"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        z.writestr("[Content_Types].xml", CT); z.writestr("_rels/.rels", RELS)
        z.writestr("xl/workbook.xml", WB.format(name="Лист1")); z.writestr("xl/_rels/workbook.xml.rels", WBRELS)
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            f.write(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
            chunk = 50000
            for i in range(0, len(rows), chunk):
                f.write("".join(rows.iloc[i:i+chunk].tolist()).encode())
            f.write(b"</sheetData></worksheet>")

if __name__ == "__main__":
    n=100_000
    rng=np.random.default_rng(1)
    cols={f"{i} (1б)": rng.integers(0,2,n) for i in range(1,19)}
    df=pd.DataFrame({"Муниципалитет":["Город"]*n,"Логин ОО":["sch070123"]*n,"Название ОО":["МБОУ СОШ №1 <&>"]*n,"Код участника":np.arange(n).astype(str),"Класс":["4А"]*n,"Вариант":rng.integers(1,3,n),**cols})
    t=time.time(); write("/tmp/proto/d.xlsx", df, set(["Вариант",*cols])); print("write", time.time()-t)
    from python_calamine import CalamineWorkbook
    t=time.time(); rows=CalamineWorkbook.from_path("/tmp/proto/d.xlsx").get_sheet_by_index(0).to_python(); print("read",time.time()-t,len(rows),rows[:2])
